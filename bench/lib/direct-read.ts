/**
 * The mount benchmark's client (bench/mounts.ts): meshdav's DirectClient reading every body into
 * one reused buffer, so the client itself makes no garbage and costs little CPU per GiB. Used in
 * the benchmark's own process, or in a process of its own (bench/lib/read-client.ts).
 */
import { DirectClient } from '../../src/mounts/direct-get.js';

const MiB = 1024 * 1024;

export interface Got {
  mibs: number;
  bytes: number;
  ms: number;
  pieces: number;
}

const directClient = new DirectClient({ connectTimeoutMs: 10_000, idleTimeoutMs: 60_000 });
/** Where every body lands (the bytes are only counted; concurrent reads may share it). */
const sink = Buffer.allocUnsafeSlow(MiB);

/** GETs a URL with DirectClient, the body read into `sink` (it must be framed by Content-Length). */
export async function directGet(url: string, auth: string): Promise<Got> {
  const t0 = performance.now();
  let at = 0;
  const res = await directClient.get({
    url: new URL(url),
    headers: auth ? { authorization: auth } : {},
    target: {
      region(max) {
        if (at === sink.length) at = 0;
        return sink.subarray(at, at + Math.min(max, sink.length - at));
      },
      received(n) {
        at += n;
        return sink.subarray(at - n, at);
      },
    },
    check(head) {
      if (head.status !== 200) throw new Error(`GET ${url}: ${head.status}`);
      return true;
    },
  });
  if (!res.body) throw new Error(`GET ${url}: the body is not framed by Content-Length`);
  return drained(res.body, t0);
}

/** Reads `body` to its end, counting; the rate is from `t0` (the request's start). */
export async function drained(body: AsyncIterable<unknown>, t0: number): Promise<Got> {
  let bytes = 0;
  let pieces = 0;
  for await (const c of body) {
    bytes += (c as Buffer).length;
    pieces++;
  }
  const ms = performance.now() - t0;
  return { mibs: bytes / MiB / (ms / 1000), bytes, ms, pieces };
}
