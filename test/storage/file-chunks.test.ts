/** ReadBuffers and FileChunks: small reads never hold pool-sized memory; pooled buffers come back. */
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileChunks, ReadBuffers } from '../../src/storage/file-chunks.js';
import { tempDir } from '../support/node.js';

describe('storage: read buffers for file chunks', function () {
  const MIB = 1024 * 1024;

  it('serves a small read with a buffer of its own size, neither lent nor kept', function () {
    const pool = new ReadBuffers(MIB, 2);
    const small = pool.take(10);
    assert.equal(small.buffer.byteLength, 10);
    pool.lend(small);
    assert.equal(pool.release(small), false, 'never lent, so not taken back');
    const full = pool.take();
    assert.equal(full.buffer.byteLength, MIB);
    pool.lend(full);
    assert.equal(pool.release(full.subarray(0, 5)), true);
    assert.equal(pool.take(10).buffer, full.buffer, 'a spare serves a small read');
  });

  it('reads a small file into exactly its size, and a large one in pooled chunks', async function () {
    const dir = tempDir('meshdav-chunks-');
    try {
      writeFileSync(join(dir, 'small'), 'tiny file');
      writeFileSync(join(dir, 'large'), Buffer.alloc(2 * MIB + 3, 7));
      const pool = new ReadBuffers(MIB, 2);
      const sizes = async (name: string, end: number) => {
        const out: number[] = [];
        for await (const c of new FileChunks(join(dir, name), 0, end, { buffers: pool })) out.push((c as Buffer).buffer.byteLength);
        return out;
      };
      assert.deepEqual(await sizes('small', 8), [9]);
      assert.deepEqual(await sizes('large', 2 * MIB + 2), [MIB, MIB, 3]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
