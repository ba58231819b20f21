/**
 * A free TCP port on 127.0.0.1, for nodes whose port must be known before they start.
 *
 * Chosen below the kernel's ephemeral range (ip_local_port_range, 32768–60999 by default): a port
 * from that range can be taken, between this check and the node's listen, by any outgoing
 * connection or `listen(0)` of the test run (an EADDRINUSE seen once in a full run). No port is
 * handed out twice by one process.
 */
import net from 'node:net';

const LOW = 20000;
const HIGH = 32767;
const handedOut = new Set<number>();

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

export async function freePort(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW + 1));
    if (handedOut.has(port)) continue;
    if (await bindable(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free port between ${LOW} and ${HIGH}`);
}
