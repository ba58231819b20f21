/**
 * Slabs: chunk-sized receive buffers go back to the pool only once every reference is dropped.
 */
import assert from 'node:assert/strict';
import { lendPiece, releasePiece, releaseSlab, retainSlab, slabRefs, takeSlab } from '../../src/mounts/slabs.js';

describe('mounts: slabs (counted chunk-sized receive buffers)', () => {
  const SIZE = 64 * 1024 + 7; // a size no other test uses, so the pool is this test's own

  it('is reused only after the filler, the store and every lent piece dropped their references', () => {
    const slab = takeSlab(SIZE);
    assert.equal(slabRefs(slab), 1);
    const a = slab.subarray(0, 100);
    const b = slab.subarray(100, 200);
    retainSlab(a);
    retainSlab(b);
    lendPiece(a);
    lendPiece(b);
    retainSlab(slab); // the store's
    releaseSlab(slab); // the filler is done
    assert.equal(slabRefs(slab), 3);
    assert.equal(releasePiece(a), true);
    assert.equal(releasePiece(a), false, 'a piece drops its reference once');
    assert.equal(releasePiece(slab.subarray(0, 100)), false, 'another view of the same bytes was never lent');
    releaseSlab(slab); // the store is done
    assert.equal(slabRefs(slab), 1);
    const other = takeSlab(SIZE);
    assert.notEqual(other.buffer, slab.buffer, 'still held by a lent piece: not handed out again');
    assert.equal(releasePiece(b), true);
    assert.equal(slabRefs(slab), 0);
    const again = takeSlab(SIZE);
    assert.equal(again.buffer, slab.buffer, 'free again: reused');
    releaseSlab(again);
    releaseSlab(other);
  });

  it('ignores buffers that are not slabs', () => {
    const plain = Buffer.alloc(10);
    assert.equal(releasePiece(plain), false);
    releaseSlab(plain);
    assert.equal(slabRefs(plain), 0);
  });

  it('gives a small chunk a slab of its own size, counted but never pooled', () => {
    const SMALL_SIZE = 64 * 1024 + 11;
    const small = takeSlab(SMALL_SIZE, 4096);
    assert.equal(small.length, 4096);
    assert.equal(small.buffer.byteLength, 4096, 'not a view of a pool-sized slab');
    assert.equal(slabRefs(small), 1);
    releaseSlab(small);
    assert.equal(slabRefs(small), 0);
    const next = takeSlab(SMALL_SIZE, 4096);
    assert.notEqual(next.buffer, small.buffer, 'a small slab is not kept as a spare');
    releaseSlab(next);
    const full = takeSlab(SMALL_SIZE);
    releaseSlab(full);
    const reused = takeSlab(SMALL_SIZE, 4096);
    assert.equal(reused.buffer, full.buffer, 'a spare, when there is one, serves a small chunk too');
    releaseSlab(reused);
  });
});
