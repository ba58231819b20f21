/**
 * SlotFiles: the kept descriptors of the chunk cache's slot files (reuse, the idle bound, close).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { SlotFiles } from '../../src/mounts/slot-files.js';
import { tempDir } from '../support/node.js';

const openFds = () => readdirSync('/proc/self/fd').length;

describe('mounts: SlotFiles (kept descriptors of the cache slot files)', () => {
  it('opens a slot once for concurrent and later uses, creating its file', async () => {
    const dir = tempDir('slots-');
    const files = new SlotFiles((n) => join(dir, `slot-${n}`));
    const before = openFds();
    const [a, b] = await Promise.all([files.acquire(3), files.acquire(3)]);
    assert.equal(a.fd, b.fd);
    writeSync(a.fd, Buffer.from('hello'), 0, 5, 0);
    a.release();
    b.release();
    const c = await files.acquire(3);
    assert.equal(c.fd, a.fd);
    c.release();
    assert.equal(readFileSync(join(dir, 'slot-3'), 'utf8'), 'hello');
    assert.equal(openFds(), before + 1);
    files.close();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(openFds(), before);
    await assert.rejects(files.acquire(3));
  });

  it('keeps at most maxIdle unused descriptors (least recently used closed first), never one in use', async () => {
    const dir = tempDir('slots-');
    const files = new SlotFiles((n) => join(dir, `slot-${n}`), 2);
    const held = await files.acquire(0);
    for (const n of [1, 2, 3]) (await files.acquire(n)).release();
    assert.equal(files.size, 2); // slot 0 (in use) and the newest idle one
    const again = await files.acquire(0);
    assert.equal(again.fd, held.fd);
    held.release();
    again.release();
    files.close();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(files.size, 0);
  });

  it('gives back a failed open, so a later use tries again', async () => {
    const files = new SlotFiles((n) => join('/nonexistent-dir', `slot-${n}`));
    await assert.rejects(files.acquire(1));
    assert.equal(files.size, 0);
    files.close();
  });
});
