import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ChunkStore, type ClaimRun } from '../../src/mounts/chunk-store.js';
import { tempDir } from '../support/node.js';

const CB = 4096;

/** Fills `key` through a claim and waits until the chunk is on disk. */
async function put(store: ChunkStore, key: string, bytes: Buffer): Promise<void> {
  store.claim(key)!.fill([bytes.subarray(0, 1000), bytes.subarray(1000)]);
  for (let i = 0; i < 200; i++) {
    const pin = store.acquireDisk(key);
    if (pin) return pin.release();
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`${key} never reached the disk tier`);
}

/** Reads a disk chunk through a pin, then releases it. */
function read(store: ChunkStore, key: string): Buffer | undefined {
  const found = store.lookup(key);
  if (found?.tier !== 'disk') return undefined;
  try {
    return readFileSync(found.file).subarray(0, found.size);
  } finally {
    found.release();
  }
}

describe('mounts: ChunkStore disk slots', () => {
  it('reuses the slot of an evicted chunk, but only once no reader holds it', async () => {
    const dir = join(tempDir('slots-'), 'cache');
    const store = new ChunkStore({ memoryBytes: 0, diskBytes: 3 * CB, dir, chunkBytes: CB });
    const [a, b, c, d, e] = Array.from({ length: 5 }, () => randomBytes(CB));
    await put(store, 'a', a!);
    await put(store, 'b', b!);
    await put(store, 'c', c!);
    const held = store.lookup('a');
    assert.equal(held?.tier, 'disk');
    if (held?.tier !== 'disk') return;
    assert.ok(read(store, 'b')!.equals(b!)); // a is now the least recently used, b next
    assert.ok(read(store, 'c')!.equals(c!));
    await put(store, 'd', d!); // evicts a (held: its slot stays), then b (slot reused for d)
    assert.equal(store.lookup('a'), undefined);
    assert.equal(store.lookup('b'), undefined);
    assert.ok(readFileSync(held.file).subarray(0, held.size).equals(a!), 'a held chunk keeps its bytes after eviction');
    assert.ok(read(store, 'd')!.equals(d!));
    held.release();
    await put(store, 'e', e!); // takes a's slot, now free
    assert.ok(read(store, 'e')!.equals(e!));
    assert.ok(read(store, 'c')!.equals(c!));
    assert.equal(readdirSync(dir).filter((n) => n.startsWith('slot-')).length, 3, 'never more slot files than diskBytes / chunkBytes');
    store.close();
  });

  it('keeps a partial chunk in a file of its own, deleted on eviction', async () => {
    const dir = join(tempDir('slots-'), 'cache');
    const store = new ChunkStore({ memoryBytes: 0, diskBytes: 2 * CB, dir, chunkBytes: CB });
    const tail = randomBytes(CB / 2 + 3);
    await put(store, 'tail', tail);
    const found = store.lookup('tail');
    assert.equal(found?.tier, 'disk');
    if (found?.tier !== 'disk') return;
    found.release();
    assert.ok(!/slot-/.test(found.file));
    await put(store, 'x', randomBytes(CB));
    await put(store, 'y', randomBytes(CB)); // over 2 chunks: the tail goes
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(existsSync(found.file), false);
    store.close();
  });

  it('takes its disk chunks back after a clean close, with their bytes, and deletes stray files', async () => {
    const dir = join(tempDir('slots-'), 'cache');
    const first = new ChunkStore({ memoryBytes: 0, diskBytes: 4 * CB, dir, chunkBytes: CB });
    const a = randomBytes(CB);
    const tail = randomBytes(CB / 2 + 3);
    await put(first, 'a', a);
    await put(first, 'tail', tail);
    first.close();
    assert.ok(existsSync(join(dir, 'index.json')), 'the index is saved');
    writeFileSync(join(dir, 'stray.tmp'), 'x');
    const second = new ChunkStore({ memoryBytes: 0, diskBytes: 4 * CB, dir, chunkBytes: CB });
    assert.equal(second.restored, 2);
    assert.ok(!existsSync(join(dir, 'index.json')), 'deleted at start: a crash later leaves no stale index');
    assert.ok(!existsSync(join(dir, 'stray.tmp')));
    assert.ok(read(second, 'a')!.equals(a));
    assert.ok(read(second, 'tail')!.equals(tail));
    // Its slot is in use: a new chunk takes another.
    await put(second, 'b', randomBytes(CB));
    assert.ok(read(second, 'a')!.equals(a));
    second.close();
  });

  it('starts empty after a crash (no saved index) or with another chunk size, and reuses the slot files', async () => {
    const dir = join(tempDir('slots-'), 'cache');
    const crashed = new ChunkStore({ memoryBytes: 0, diskBytes: 2 * CB, dir, chunkBytes: CB });
    await put(crashed, 'a', randomBytes(CB));
    // No close: as after SIGKILL or a power cut.
    const second = new ChunkStore({ memoryBytes: 0, diskBytes: 2 * CB, dir, chunkBytes: CB });
    assert.deepEqual(readdirSync(dir), ['slot-0']);
    assert.equal(second.lookup('a'), undefined, 'nothing is served from a run that did not close');
    const b = randomBytes(CB);
    await put(second, 'b', b);
    assert.ok(read(second, 'b')!.equals(b));
    assert.deepEqual(readdirSync(dir), ['slot-0'], 'the existing slot file was reused');
    second.close();
    const resized = new ChunkStore({ memoryBytes: 0, diskBytes: 4 * CB, dir, chunkBytes: 2 * CB });
    assert.equal(resized.lookup('b'), undefined, 'an index of another chunk size is not used');
    resized.close();
  });
});

describe('mounts: ChunkStore write queue', () => {
  const MiB = 1024 * 1024;

  it('keeps the chunks of a run other readers follow in memory while the disk write queue is full, and writes them as it drains', async () => {
    const dir = join(tempDir('queue-'), 'cache');
    // The write queue holds 16 MiB: four 4 MiB chunks. The memory tier holds two more.
    const store = new ChunkStore({ memoryBytes: 8 * MiB, diskBytes: 64 * MiB, dir, chunkBytes: 4 * MiB });
    const chunks = Array.from({ length: 8 }, () => randomBytes(4 * MiB));
    const recycled: number[] = [];
    // All filled in one turn, before any disk write can finish. k4–k6 are one run (one GET) and
    // another reader waits for k4 (it looked it up while it was being fetched), so it follows
    // that run; nobody waits for the others.
    const run: ClaimRun = { followed: false };
    const kept: boolean[] = [];
    const lost: number[] = [];
    chunks.forEach((c, i) => {
      const claim = store.claim(`k${i}`, i >= 4 && i <= 6 ? run : undefined)!;
      if (i === 4) assert.equal(store.lookup('k4')?.tier, 'pending');
      kept.push(claim.fill([c], () => recycled.push(i), () => lost.push(i)));
    });
    assert.equal(store.lookup('k6')?.tier, 'memory', 'k6 waits in memory');
    assert.equal(store.lookup('k5')?.tier, 'memory', 'k5 waits in memory');
    assert.equal(store.lookup('k4'), undefined, 'k4 was pushed out of memory (8 MiB) by k6 while the queue was full');
    assert.equal(store.lookup('k7'), undefined, 'k7, which nobody waited for, is not cached');
    assert.deepEqual(kept, [true, true, true, true, true, true, true, false], 'fill says which chunk it did not keep');
    assert.deepEqual(lost, [4], 'and k4, kept in memory but pushed out before it was written, is told lost (to be fetched again)');
    assert.equal(store.stats.spillsDropped, 2);
    // As writes finish, the chunks waiting in memory are written too, with their own bytes.
    const onDisk = async (k: string) => {
      for (let i = 0; i < 400 && !store.acquireDisk(k); i++) await new Promise((r) => setTimeout(r, 5));
      const found = store.lookup(k);
      assert.equal(found?.tier, 'disk', `${k} reached the disk`);
      if (found?.tier !== 'disk') return undefined;
      try {
        return readFileSync(found.file).subarray(0, found.size);
      } finally {
        found.release();
      }
    };
    for (const i of [0, 1, 2, 3, 5, 6]) assert.ok((await onDisk(`k${i}`))!.equals(chunks[i]!), `k${i}'s bytes`);
    assert.equal(store.stats.memoryBytes, 0, 'nothing is left waiting in memory');
    // Chunks a reader was given (k4–k6) may still be read from: never recycled.
    assert.deepEqual(recycled.sort(), [0, 1, 2, 3, 7], 'every other chunk gave its memory back, once');
    assert.deepEqual(lost, [4], 'the chunks written from memory were not lost');
    store.close();
  });

  it('is quiet once no claim is in flight and nothing waits to be written', async () => {
    const store = new ChunkStore({ memoryBytes: 0, diskBytes: 64 * MiB, dir: join(tempDir('quiet-'), 'cache'), chunkBytes: 4 * MiB });
    await store.quiet(); // nothing going on
    let quiet = false;
    const claim = store.claim('a')!;
    const waiting = store.quiet().then(() => (quiet = true));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(quiet, false, 'a claim is in flight');
    claim.fill([randomBytes(4 * MiB)]);
    assert.equal(quiet, false, 'its chunk waits to be written');
    await waiting;
    assert.ok(store.acquireDisk('a'), 'quiet once the chunk is on disk');
    const other = store.claim('b')!;
    const again = store.quiet();
    other.abandon(new Error('gave up'));
    await again;
    store.close();
  });
});
