/**
 * A real meshdav node with one user for the DAV tests, and a raw HTTP helper that sends the
 * request target verbatim (fetch would normalise `%2e%2e` and friends away).
 */
import http from 'node:http';
import { XMLParser } from 'fast-xml-parser';
import { startTestNode, type TestNode } from '../../support/node.js';

export interface DavResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

export interface DavNode {
  node: TestNode;
  user: string;
  password: string;
  /** `/remote.php/dav/files/{user}` */
  base: string;
  auth: string;
  /** Sends `method path` (verbatim) with Basic auth unless headers.authorization is given. */
  req(method: string, path: string, opts?: { headers?: Record<string, string>; body?: string | Buffer }): Promise<DavResponse>;
  stop(): Promise<void>;
}

export async function startDavNode(user = 'alice', password = 'correct horse battery'): Promise<DavNode> {
  const node = await startTestNode();
  await node.services.users.add({ name: user, password, displayName: 'Alice Example' });
  const auth = 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');
  const url = new URL(node.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  return {
    node,
    user,
    password,
    base: `/remote.php/dav/files/${user}`,
    auth,
    req(method, path, opts = {}) {
      return new Promise((resolve, reject) => {
        const headers: Record<string, string> = { authorization: auth, ...opts.headers };
        if (opts.body !== undefined) headers['content-length'] = String(Buffer.byteLength(opts.body));
        const r = http.request({ host: url.hostname, port: url.port, method, path, headers, agent }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const body = Buffer.concat(chunks);
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString('utf8') });
          });
          res.on('error', reject);
        });
        r.on('error', reject);
        r.end(opts.body);
      });
    },
    async stop() {
      agent.destroy();
      await node.stop();
    },
  };
}

const parser = new XMLParser({ removeNSPrefix: true, ignoreAttributes: true, parseTagValue: false, isArray: (name) => ['response', 'propstat'].includes(name) });

export interface PropstatView {
  status: number;
  props: Record<string, unknown>;
}

/** A multistatus as href → propstats (namespace prefixes removed), for assertions. */
export function parseMultistatus(xml: string): Map<string, PropstatView[]> {
  const doc = parser.parse(xml) as { multistatus?: { response?: Array<{ href: string; propstat?: Array<{ prop: Record<string, unknown>; status: string }>; status?: string }> } };
  const out = new Map<string, PropstatView[]>();
  for (const r of doc.multistatus?.response ?? []) {
    const stats = (r.propstat ?? []).map((p) => ({ status: Number(/\s(\d{3})\s/.exec(p.status)?.[1]), props: p.prop ?? {} }));
    if (r.status) stats.push({ status: Number(/\s(\d{3})\s/.exec(r.status)?.[1]), props: {} });
    out.set(r.href, stats);
  }
  return out;
}

/** The props found (200) for `href`. */
export function found(ms: Map<string, PropstatView[]>, href: string): Record<string, unknown> {
  return ms.get(href)?.find((p) => p.status === 200)?.props ?? {};
}
