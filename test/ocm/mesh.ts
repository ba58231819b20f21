/**
 * Test support for multi-site OCM tests: real nodes on loopback whose ports are chosen before
 * start, so each can be configured to trust the others from the first request on.
 */
import type { ConfigInput } from '../../src/config.js';
import { startTestNode, type TestNode } from '../support/node.js';
import { freePort } from '../support/ports.js';

export const PASSWORD = 'correct horse battery staple';

export { freePort };

export interface MeshOptions {
  /** trusts[i] = indexes of the nodes node i trusts (default: every other node). */
  trusts?: number[][];
  extra?: ConfigInput[];
  /** users to create on each node: [name, displayName, email][] per node. */
  users?: Array<Array<[string, string, string]>>;
}

export async function startMesh(n: number, opts: MeshOptions = {}): Promise<TestNode[]> {
  const ports: number[] = [];
  for (let i = 0; i < n; i++) ports.push(await freePort());
  const url = (i: number) => `http://127.0.0.1:${ports[i]}`;
  const nodes: TestNode[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const trusted = (opts.trusts?.[i] ?? [...Array(n).keys()].filter((j) => j !== i)).map(url);
      const node = await startTestNode({ port: ports[i], trustedProviders: trusted, ...(opts.extra?.[i] ?? {}) });
      nodes.push(node);
      for (const [name, displayName, email] of opts.users?.[i] ?? []) {
        await node.services.users.add({ name, password: PASSWORD, displayName, email });
      }
    }
  } catch (err) {
    await Promise.all(nodes.map((x) => x.stop()));
    throw err;
  }
  return nodes;
}

export function domainOf(node: TestNode): string {
  return new URL(node.url).host;
}

/** A small JSON client of one node as one user. */
export function client(node: TestNode, user: string, password = PASSWORD) {
  const auth = 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');
  async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const res = await fetch(node.url + path, {
      method,
      headers: { authorization: auth, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let json: any;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text, headers: res.headers };
  }
  return {
    get: (p: string, h?: Record<string, string>) => call('GET', p, undefined, h),
    post: (p: string, b?: unknown, h?: Record<string, string>) => call('POST', p, b ?? {}, h),
    del: (p: string, b?: unknown) => call('DELETE', p, b),
    call,
  };
}

/** Writes a file into a user's home directly through the node's storage. */
export async function putFile(node: TestNode, user: string, path: string, content: string | Buffer): Promise<void> {
  const { Readable } = await import('node:stream');
  const home = await node.services.storage.home(user);
  const parts = path.split('/').filter(Boolean);
  let dir = '';
  for (const p of parts.slice(0, -1)) {
    dir += '/' + p;
    try {
      await home.mkdir(dir);
    } catch {
      // exists
    }
  }
  await home.write(path, Readable.from([Buffer.from(content)]));
}

/** Raw request (no JSON), for the share endpoint. */
export async function raw(url: string, init: RequestInit = {}) {
  const res = await fetch(url, init);
  return { status: res.status, text: await res.text(), headers: res.headers };
}

/**
 * POSTs `body` to another node's OCM API as node `from` sends its own requests: signed with its
 * key (src/ocm/signatures.ts). A node that publishes a key is refused unsigned requests in its name.
 */
export async function postAs(from: TestNode, url: string, body: string, type = 'application/json'): Promise<Response> {
  const signed = await from.services.ocm.signer.headers('POST', url, body);
  return fetch(url, { method: 'POST', headers: { 'content-type': type, ...signed }, body });
}

/** A valid OCM 1.1 share payload from `sender` to `shareWith`. */
export function sharePayload(shareWith: string, sender: string, secret = 'a-secret-of-enough-length-' + Math.random().toString(36).slice(2)) {
  const senderHost = sender.slice(sender.lastIndexOf('@') + 1);
  return {
    shareWith,
    name: 'x.txt',
    providerId: 'p-' + Math.random().toString(36).slice(2),
    owner: sender,
    sender,
    shareType: 'user',
    resourceType: 'file',
    protocol: { name: 'multi', options: {}, webdav: { uri: `http://${senderHost}/remote.php/dav/ocm/abc`, sharedSecret: secret, permissions: ['read'] } },
  };
}
