/**
 * Chunk-sized slabs: the memory a fetched chunk is received into, reused once nobody holds it.
 *
 * Contracts:
 *   - a slab is counted: `takeSlab` returns one holding one reference (its filler's); `retain`
 *     adds one for a piece handed on (a view of the slab), `releaseSlab` drops one; the slab goes
 *     back to the pool only when the count reaches 0;
 *   - a piece pushed to a reader is registered with `lendPiece` (it carries a reference);
 *     `releasePiece` of exactly that object drops it, once, and ignores any other buffer;
 *   - a reference never dropped (a piece lost in a destroyed stream, a consumer that never hands
 *     pieces back) only means the slab is not reused: it is garbage like any buffer. So a slab is
 *     never written again while anything may still read it.
 *
 * The pool keeps MAX_FREE_SLABS spares per size: that covers every slab a stream keeps busy (the
 * store's 16 MiB spill queue of 4 MiB chunks plus the one being filled), so a steady stream
 * allocates none: a slab dropped here is old-generation garbage that only a full GC frees, and
 * fresh 4 MiB slabs then drive a full GC every few tens of ms (external-memory pressure).
 */
import { ReadBuffers } from '../storage/file-chunks.js';

const MAX_FREE_SLABS = 6;
const pools = new Map<number, ReadBuffers>();
/** References held on each slab, by its memory. */
const counts = new WeakMap<ArrayBufferLike, { slab: Buffer; refs: number }>();
/** Pieces handed to readers that still carry their reference. */
const lent = new WeakSet<Buffer>();

/**
 * A slab of `size` bytes with one reference (the caller's); for a chunk of only `want` bytes (a
 * small file) a spare when there is one, else a fresh slab of `want` bytes, never pooled.
 */
export function takeSlab(size: number, want = size): Buffer {
  let pool = pools.get(size);
  if (!pool) pools.set(size, (pool = new ReadBuffers(size, MAX_FREE_SLABS)));
  const slab = pool.take(want);
  pool.lend(slab);
  counts.set(slab.buffer, { slab, refs: 1 });
  return slab;
}

/** One more reference on the slab `view` is part of. */
export function retainSlab(view: Buffer): void {
  const c = counts.get(view.buffer);
  if (c) c.refs++;
}

/** Drops one reference on the slab `view` is part of; the last one gives the slab back. */
export function releaseSlab(view: Buffer): void {
  const c = counts.get(view.buffer);
  if (!c || --c.refs > 0) return;
  counts.delete(view.buffer);
  pools.get(c.slab.length)?.release(c.slab);
}

/** Marks `piece` (a view of a slab, holding a reference) as handed to a reader. */
export function lendPiece(piece: Buffer): void {
  lent.add(piece);
}

/** A reader is done with `piece`: drops its reference if it was lent (else false, nothing done). */
export function releasePiece(piece: Buffer): boolean {
  if (!lent.delete(piece)) return false;
  releaseSlab(piece);
  return true;
}

/** References held on the slab `view` is part of (0 once it went back to the pool); for tests. */
export function slabRefs(view: Buffer): number {
  return counts.get(view.buffer)?.refs ?? 0;
}
