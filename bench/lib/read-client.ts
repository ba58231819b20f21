/**
 * The mount benchmark's client in a process of its own (BENCH_MOUNTS_CLIENT=process): reads one
 * JSON request per line on stdin, `{"url", "auth"}`, GETs it with directGet and answers one JSON
 * line on stdout, the Got figures or `{"error"}`. Requests are served one at a time, in order.
 */
import { createInterface } from 'node:readline';
import { directGet } from './direct-read.js';

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  const { url, auth } = JSON.parse(line) as { url: string; auth: string };
  try {
    process.stdout.write(JSON.stringify(await directGet(url, auth)) + '\n');
  } catch (err) {
    process.stdout.write(JSON.stringify({ error: (err as Error).message }) + '\n');
  }
}
process.exit(0);
