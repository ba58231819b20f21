/**
 * The measurements, each done the same way against any DAV server: a streamed GET and PUT of
 * a big file (throughput), a PROPFIND Depth 1 allprop of a folder (wall time to the last
 * byte), and N concurrent clients fetching small files for a fixed time (requests/s, errors).
 * All HTTP goes through undici; bodies are consumed and discarded, never buffered whole.
 */
import { createReadStream } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import type { DavServer } from './meshdav.js';

function pool(server: DavServer, connections = 1): { pool: Pool; base: string } {
  const u = new URL(server.davUrl);
  return { pool: new Pool(u.origin, { connections, pipelining: 1, keepAliveTimeout: 60_000 }), base: u.pathname };
}

/** URL-path of `rel` (slash-separated, unencoded) under the server's DAV root. */
export function davPath(base: string, rel: string): string {
  return base + rel.split('/').map(encodeURIComponent).join('/');
}

export interface Transfer {
  bytes: number;
  seconds: number;
  /** Bytes per second. */
  rate: number;
}

export async function timedGet(server: DavServer, rel: string): Promise<Transfer> {
  const { pool: p, base } = pool(server);
  try {
    const t0 = performance.now();
    const res = await p.request({ method: 'GET', path: davPath(base, rel), headers: { authorization: server.auth } });
    if (res.statusCode !== 200) throw new Error(`${server.name}: GET ${rel} → ${res.statusCode}: ${await res.body.text()}`);
    let bytes = 0;
    for await (const chunk of res.body) bytes += (chunk as Buffer).length;
    const seconds = (performance.now() - t0) / 1000;
    return { bytes, seconds, rate: bytes / seconds };
  } finally {
    await p.close();
  }
}

export async function timedPut(server: DavServer, rel: string, localFile: string, size: number): Promise<Transfer> {
  const { pool: p, base } = pool(server);
  try {
    const t0 = performance.now();
    const res = await p.request({
      method: 'PUT',
      path: davPath(base, rel),
      headers: { authorization: server.auth, 'content-length': String(size), 'content-type': 'application/octet-stream' },
      body: createReadStream(localFile, { highWaterMark: 1024 * 1024 }),
    });
    await res.body.dump();
    if (res.statusCode !== 201 && res.statusCode !== 204) throw new Error(`${server.name}: PUT ${rel} → ${res.statusCode}`);
    const seconds = (performance.now() - t0) / 1000;
    return { bytes: size, seconds, rate: size / seconds };
  } finally {
    await p.close();
  }
}

const ALLPROP = '<?xml version="1.0" encoding="utf-8"?>\n<d:propfind xmlns:d="DAV:"><d:allprop/></d:propfind>';

export interface PropfindResult {
  seconds: number;
  bytes: number;
  responses: number;
}

/** PROPFIND Depth 1 allprop of a folder; counts `<response>` elements in the 207 body. */
export async function timedPropfind(server: DavServer, rel: string): Promise<PropfindResult> {
  const { pool: p, base } = pool(server);
  try {
    const t0 = performance.now();
    const res = await p.request({
      method: 'PROPFIND',
      path: davPath(base, rel) + '/',
      headers: { authorization: server.auth, depth: '1', 'content-type': 'application/xml; charset=utf-8' },
      body: ALLPROP,
    });
    let bytes = 0;
    let responses = 0;
    let carry = '';
    for await (const chunk of res.body) {
      bytes += (chunk as Buffer).length;
      // Count whole start tags only; an unfinished tag at the end waits for the next chunk.
      let text = carry + (chunk as Buffer).toString('latin1');
      const open = text.lastIndexOf('<');
      carry = open >= 0 && text.indexOf('>', open) < 0 ? text.slice(open) : '';
      if (carry) text = text.slice(0, open);
      responses += text.match(/<(?:[A-Za-z0-9_-]+:)?response[\s>]/g)?.length ?? 0;
    }
    const seconds = (performance.now() - t0) / 1000;
    if (res.statusCode !== 207) throw new Error(`${server.name}: PROPFIND ${rel} → ${res.statusCode}`);
    return { seconds, bytes, responses };
  } finally {
    await p.close();
  }
}

export interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  rps: number;
  /** The first few error descriptions. */
  samples: string[];
}

/** `clients` loops over one keep-alive pool, each GETting random files of `rels` until `seconds` pass. */
export async function loadTest(server: DavServer, rels: string[], clients: number, seconds: number): Promise<LoadResult> {
  const { pool: p, base } = pool(server, clients);
  const paths = rels.map((r) => davPath(base, r));
  let requests = 0;
  let errors = 0;
  const samples: string[] = [];
  const note = (s: string) => {
    errors++;
    if (samples.length < 5) samples.push(s);
  };
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  const worker = async (i: number) => {
    let k = i;
    while (performance.now() < end) {
      const path = paths[k++ % paths.length]!;
      try {
        const res = await p.request({ method: 'GET', path, headers: { authorization: server.auth } });
        await res.body.dump({ limit: 1 << 20 });
        if (res.statusCode === 200) requests++;
        else note(`${res.statusCode} for GET ${path}`);
      } catch (err) {
        note(`${(err as Error).message} for GET ${path}`);
      }
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, i) => worker(i * 7)));
  const elapsed = (performance.now() - t0) / 1000;
  await p.close();
  return { requests, errors, seconds: elapsed, rps: requests / elapsed, samples };
}
