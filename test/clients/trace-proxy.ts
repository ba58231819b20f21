/**
 * A loopback HTTP proxy that forwards everything to one node and appends each exchange
 * (method, URL, request headers, status, response headers, and the first 4 KiB of XML/JSON/text
 * bodies both ways) to a trace file. Used to capture what a real client sent when it disagrees
 * with the server: set MESHDAV_CLIENT_TRACE=<dir> and the client tests go through it.
 */
import http from 'node:http';
import { appendFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';

const TEXTUAL = /xml|json|text|x-www-form-urlencoded/i;
const CAP = 4096;

export interface TraceProxy {
  url: string;
  stop(): Promise<void>;
}

export async function startTraceProxy(target: string, traceFile: string): Promise<TraceProxy> {
  const t = new URL(target);
  let seq = 0;
  const server = http.createServer((req, res) => {
    const n = ++seq;
    const reqBody: Buffer[] = [];
    let reqLen = 0;
    // Host is passed unchanged: clients name the proxy in `If:` tags and `Destination`, and the
    // node must see the same authority the client used.
    const up = http.request({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers }, (ures) => {
      const resBody: Buffer[] = [];
      let resLen = 0;
      res.writeHead(ures.statusCode ?? 502, ures.headers);
      ures.on('data', (c: Buffer) => {
        if (resLen < CAP) resBody.push(c);
        resLen += c.length;
      });
      ures.pipe(res);
      ures.on('end', () => {
        const show = (h: http.IncomingHttpHeaders, body: Buffer[], len: number) =>
          len && TEXTUAL.test(String(h['content-type'] ?? '')) ? `\n${Buffer.concat(body).subarray(0, CAP).toString()}${len > CAP ? `\n…(${len} bytes)` : ''}` : len ? ` [${len} bytes]` : '';
        const redact = (h: http.IncomingHttpHeaders) => ({ ...h, ...(h.authorization ? { authorization: String(h.authorization).split(' ')[0] + ' …' } : {}) });
        appendFileSync(
          traceFile,
          `#${n} ${req.method} ${req.url}\n${JSON.stringify(redact(req.headers))}${show(req.headers, reqBody, reqLen)}\n` +
            `=> ${ures.statusCode}\n${JSON.stringify(ures.headers)}${show(ures.headers, resBody, resLen)}\n\n`,
        );
      });
    });
    up.on('error', (err) => {
      appendFileSync(traceFile, `#${n} ${req.method} ${req.url} => proxy error ${err.message}\n\n`);
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.on('data', (c: Buffer) => {
      if (reqLen < CAP) reqBody.push(c);
      reqLen += c.length;
    });
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
