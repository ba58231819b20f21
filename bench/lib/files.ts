/**
 * Test data for the benchmarks: big files of random bytes written block by block (no holes,
 * so no filesystem can shortcut them), and many small files seeded through a server's own PUT.
 */
import { randomBytes, randomFillSync } from 'node:crypto';
import { open } from 'node:fs/promises';
import { Pool } from 'undici';
import type { DavServer } from './meshdav.js';
import { davPath } from './measure.js';

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

/** Writes `bytes` of random data to `path` in 4 MiB blocks. */
export async function writeRandomFile(path: string, bytes: number): Promise<void> {
  const fh = await open(path, 'w');
  try {
    const block = Buffer.allocUnsafe(4 * MiB);
    for (let done = 0; done < bytes; ) {
      const n = Math.min(block.length, bytes - done);
      randomFillSync(block, 0, n);
      await fh.write(block, 0, n);
      done += n;
    }
  } finally {
    await fh.close();
  }
}

/** MKCOLs `folder` then PUTs `count` files of `size` random bytes named f00000.bin… into it, `parallel` at a time. */
export async function seedFiles(server: DavServer, folder: string, count: number, size: number, parallel = 16): Promise<string[]> {
  const u = new URL(server.davUrl);
  const pool = new Pool(u.origin, { connections: parallel });
  try {
    const mk = await pool.request({ method: 'MKCOL', path: davPath(u.pathname, folder), headers: { authorization: server.auth } });
    await mk.body.dump();
    if (mk.statusCode !== 201) throw new Error(`${server.name}: MKCOL ${folder} → ${mk.statusCode}`);
    const names = Array.from({ length: count }, (_, i) => `${folder}/f${String(i).padStart(5, '0')}.bin`);
    let next = 0;
    const worker = async () => {
      while (next < names.length) {
        const rel = names[next++]!;
        const res = await pool.request({
          method: 'PUT',
          path: davPath(u.pathname, rel),
          headers: { authorization: server.auth, 'content-length': String(size) },
          body: randomBytes(size),
        });
        await res.body.dump();
        if (res.statusCode !== 201 && res.statusCode !== 204) throw new Error(`${server.name}: PUT ${rel} → ${res.statusCode}`);
      }
    };
    await Promise.all(Array.from({ length: parallel }, worker));
    return names;
  } finally {
    await pool.close();
  }
}
