/**
 * Closes the connections of clients that stall a transfer, like nginx's send_timeout and
 * client_body_timeout: a download whose client stopped taking bytes, or an upload whose client
 * stopped sending them while the server reads. Without this a stalled client holds what its
 * request holds for ever (a file descriptor, a mount read's sender connection and buffers).
 *
 * Contracts: a connection is closed when no byte moved on it for `stallMs` and either
 *   - bytes of the response wait to be sent (the kernel takes no more: the client does not read), or
 *   - the request body is not complete, its buffer has room (we would take bytes), and none arrive;
 * a connection whose request is being worked on with nothing to move either way (a long COPY, a
 * slow sender behind a mount, our own backpressure on an upload) is left alone: those have their
 * own bounds; an idle kept-alive connection is closed as Node would close it.
 */
import type { Server as HttpServer, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../log.js';

/** Connections closed so far, by what the client stopped doing. */
export interface StallStats {
  /** It stopped reading a response. */
  responses: number;
  /** It stopped sending a request body. */
  bodies: number;
}

interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
}

export function closeStalledClients(server: HttpServer, stallMs: number, log: Logger): StallStats {
  const stats: StallStats = { responses: 0, bodies: 0 };
  const current = new WeakMap<Socket, Exchange>();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    current.set(socket, { req, res });
    res.once('close', () => {
      if (current.get(socket)?.res === res) current.delete(socket);
    });
  });
  // With a listener, Node no longer closes a timed-out socket itself: every case is decided here.
  server.setTimeout(stallMs, (socket: Socket) => {
    const exchange = current.get(socket);
    if (!exchange) {
      socket.destroy(); // between requests (Node's keep-alive timeout) or before the first one
      return;
    }
    const { req, res } = exchange;
    const sending = socket.writableLength > 0;
    // Room left in the body's buffer: a sending client would have filled it by now (a full one
    // is our own backpressure, or a handler that has not started reading yet).
    const receiving = !req.complete && req.readableLength < req.readableHighWaterMark;
    if (!sending && !receiving) return; // working on it: the timer re-arms with the next byte moved
    if (sending) stats.responses++;
    else stats.bodies++;
    try {
      // The path without its query string (it may carry invite tokens), as the access log does.
      const path = (req.url ?? '').split('?')[0];
      log.info({ method: req.method, path, stallMs, waiting: sending ? 'response not read' : 'request body not sent' }, 'closing a stalled client connection');
    } catch {
      // Logging must never keep a stalled connection open.
    }
    res.destroy();
    socket.destroy();
  });
  return stats;
}
