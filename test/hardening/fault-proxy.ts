/**
 * A fault-injecting HTTP proxy for the mount path (receiver → proxy → sender). Its mode can be
 * changed between requests: pass, latency, 5xx bursts, connection resets, a hung sender,
 * dropping the connection mid-body, and trickling the body byte by byte.
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export type FaultMode =
  | { kind: 'pass' }
  | { kind: 'latency'; ms: number }
  | { kind: 'status'; status: number; count: number }
  | { kind: 'reset' }
  | { kind: 'hang' }
  | { kind: 'drop-mid-body'; afterBytes: number }
  | { kind: 'trickle'; everyMs: number };

export class FaultProxy {
  mode: FaultMode = { kind: 'pass' };
  /** Requests seen, for tests that count what reached the sender. */
  requests = 0;
  /** Every request line and header block seen, for tests that check what crosses the wire. */
  readonly seen: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders }> = [];
  private server?: http.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly targetPort: number,
    readonly port: number,
  ) {}

  async start(): Promise<void> {
    const server = http.createServer((req, res) => this.handle(req, res));
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  /** Stops listening and cuts every open connection (the sender "goes down"). */
  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of this.sockets) s.destroy();
    if (this.server) await new Promise<void>((r) => this.server!.close(() => r()));
    this.server = undefined;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server?.address() as AddressInfo | undefined)?.port ?? this.port}`;
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.requests++;
    this.seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    const mode = this.mode;
    switch (mode.kind) {
      case 'reset':
        req.socket.destroy();
        return;
      case 'hang':
        req.resume();
        return;
      case 'status':
        if (mode.count > 0) {
          mode.count--;
          req.resume();
          res.writeHead(mode.status, { 'content-type': 'text/plain', 'retry-after': '1' }).end('injected failure\n');
          return;
        }
        break;
      case 'latency':
        this.later(mode.ms, () => this.forward(req, res, mode));
        return;
      default:
    }
    this.forward(req, res, mode);
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse, mode: FaultMode): void {
    const up = http.request(
      { host: '127.0.0.1', port: this.targetPort, method: req.method, path: req.url, headers: req.headers },
      (upRes) => {
        if (mode.kind === 'drop-mid-body') {
          res.writeHead(upRes.statusCode!, upRes.headers);
          let sent = 0;
          upRes.on('data', (chunk: Buffer) => {
            if (sent >= mode.afterBytes) return;
            const part = chunk.subarray(0, mode.afterBytes - sent);
            sent += part.length;
            res.write(part);
            if (sent >= mode.afterBytes) {
              upRes.destroy();
              req.socket.destroy();
            }
          });
          // An answer shorter than that (a PROPFIND, a small file) arrives whole.
          upRes.on('end', () => {
            if (sent < mode.afterBytes) res.end();
          });
          return;
        }
        if (mode.kind === 'trickle') {
          res.writeHead(upRes.statusCode!, upRes.headers);
          res.flushHeaders();
          upRes.pause();
          const drip = () => {
            const b = upRes.read(1) as Buffer | null;
            if (b) res.write(b);
            if (upRes.readableEnded) return void res.end();
            this.later(mode.everyMs, drip);
          };
          upRes.once('readable', () => this.later(mode.everyMs, drip));
          return;
        }
        res.writeHead(upRes.statusCode!, upRes.headers);
        upRes.pipe(res);
      },
    );
    up.on('error', () => req.socket.destroy());
    res.on('close', () => up.destroy());
    req.pipe(up);
  }
}
