/**
 * Test helpers for the mount layer: an independent third-party WebDAV server (npm
 * `webdav-server` v2 over a temp dir) and a counting/delaying/killable TCP-level HTTP proxy.
 */
import http from 'node:http';
import net from 'node:net';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { BodyTarget } from '../../src/mounts/direct-get.js';
import { tempDir } from '../support/node.js';

const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const { v2: webdav } = require('webdav-server') as { v2: any };

export interface ThirdPartyDav {
  url: string;
  dir: string;
  /** Requests seen, by method. */
  requests: string[];
  close(): Promise<void>;
}

/** webdav-server with PhysicalFileSystem on a fresh temp dir; Basic `user:pass` when given. */
export async function startWebdavServer(opts: { basic?: { user: string; password: string } } = {}): Promise<ThirdPartyDav> {
  const dir = tempDir('webdav-server-');
  const serverOptions: Record<string, unknown> = { rootFileSystem: new webdav.PhysicalFileSystem(dir) };
  if (opts.basic) {
    const users = new webdav.SimpleUserManager();
    users.addUser(opts.basic.user, opts.basic.password, false);
    serverOptions.httpAuthentication = new webdav.HTTPBasicAuthentication(users, 'test');
    serverOptions.requireAuthentification = true;
  }
  const dav = new webdav.WebDAVServer(serverOptions);
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    dav.executeRequest(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    dir,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export interface TestProxy {
  url: string;
  /** HTTP requests that went through, as "METHOD path range". */
  requests: string[];
  /** Cut every open connection (the sender "dies"). */
  killConnections(): void;
  close(): Promise<void>;
}

export interface ProxyOptions {
  delayMs?: number;
  port?: number;
  /** Cuts the connection of the next `times` (default 1) GET answers after `afterBytes` body bytes. */
  cut?: { afterBytes: number; times?: number };
  /** Awaited before each request is forwarded (after it is recorded). */
  hold?: (req: http.IncomingMessage) => Promise<void> | void;
}

/**
 * A small HTTP forward proxy in front of `target` (origin URL) that records each request,
 * optionally waits `delayMs` before forwarding it, and can cut all connections, or the next GET
 * answers part-way (`cut`).
 */
export async function startProxy(target: string, opts: ProxyOptions = {}): Promise<TestProxy> {
  const t = new URL(target);
  const requests: string[] = [];
  const sockets = new Set<net.Socket>();
  const agent = new http.Agent({ keepAlive: true });
  let cuts = opts.cut ? (opts.cut.times ?? 1) : 0;
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url} ${req.headers.range ?? ''}`.trim());
    const forward = () => {
      const up = http.request(
        { host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers, agent },
        (upRes) => {
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          if (req.method === 'GET' && upRes.statusCode! < 300 && cuts > 0) {
            cuts--;
            let sent = 0;
            upRes.on('data', (d: Buffer) => {
              if (sent >= opts.cut!.afterBytes) return;
              const piece = d.subarray(0, opts.cut!.afterBytes - sent);
              sent += piece.length;
              res.write(piece);
              if (sent >= opts.cut!.afterBytes) {
                upRes.destroy();
                res.socket?.destroySoon();
              }
            });
            return;
          }
          upRes.pipe(res);
          upRes.on('error', () => res.destroy());
          upRes.on('aborted', () => res.destroy());
        },
      );
      up.on('error', () => res.destroy());
      req.pipe(up);
    };
    const go = () => (opts.delayMs ? setTimeout(forward, opts.delayMs) : forward());
    if (opts.hold) void Promise.resolve(opts.hold(req)).then(go, () => res.destroy());
    else go();
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(opts.port ?? 0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    killConnections() {
      for (const s of sockets) s.destroy();
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        agent.destroy();
        server.close(() => r());
      }),
  };
}

/** A DirectClient body target writing into one buffer of `total` bytes; it records the regions it handed out. */
export function memoryTarget(total: number, maxRegion = Infinity): BodyTarget & { mem: Buffer; at: number; asked: number[]; given: number[] } {
  const mem = Buffer.alloc(total);
  const t = {
    mem,
    at: 0,
    asked: [] as number[],
    given: [] as number[],
    region(max: number): Buffer {
      const len = Math.min(max, total - t.at, maxRegion);
      t.asked.push(max);
      t.given.push(len);
      return mem.subarray(t.at, t.at + len);
    },
    received(n: number): Buffer {
      const piece = mem.subarray(t.at, t.at + n);
      t.at += n;
      return piece;
    },
  };
  return t;
}
