/**
 * ResumingBody on its own, with bodies the test controls: which bytes it asks for again after a
 * break, what it does with pieces a failed body had received but not emitted, and when it gives up.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { BadGatewayError, PreconditionFailedError } from '../../src/errors.js';
import type { BodyTarget } from '../../src/mounts/direct-get.js';
import { ResumingBody, TrackedTarget } from '../../src/mounts/resuming-body.js';

/** A target over one buffer of the whole span, as a slab is. */
function memory(size: number): BodyTarget & { mem: Buffer } {
  const mem = Buffer.alloc(size);
  let at = 0;
  return {
    mem,
    region: (max) => mem.subarray(at, at + Math.min(max, size - at)),
    received(n) {
      at += n;
      return mem.subarray(at - n, at);
    },
  };
}

/**
 * A direct body as DirectClient makes one: each `deliver` writes bytes into the target's region
 * and pushes the piece `received` returned (buffered while the reader is paused).
 */
function directBody(target: TrackedTarget, data: Buffer) {
  const stream = new Readable({ read() {} });
  return {
    stream,
    deliver(n: number) {
      const region = target.region(n);
      data.copy(region, 0, target.at, target.at + region.length);
      stream.push(target.received(region.length));
    },
  };
}

/** A 1 MiB span read straight into memory, and its first (direct) body. */
function directSpan() {
  const size = 1024 * 1024;
  const big = Buffer.from(Array.from({ length: size }, (_, i) => i % 253));
  const target = new TrackedTarget(memory(size), 0);
  return { size, big, target, first: directBody(target, big) };
}

async function all(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(Buffer.from(c as Buffer));
  return Buffer.concat(parts);
}

describe('mounts: ResumingBody', () => {
  const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
  it('emits the pieces a failed direct body still buffered, then asks for the bytes after the last one received', async () => {
    const { size, big, target, first } = directSpan();
    const asked: number[] = [];
    const body = new ResumingBody({ stream: first.stream, direct: true, length: size }, target, size - 1, async (from, t) => {
      asked.push(from);
      const next = directBody(t, big);
      setImmediate(() => {
        while (t.at < size) next.deliver(300 * 1024);
        next.stream.push(null);
      });
      return { stream: next.stream, direct: true, length: size - from };
    }, { pausedCloseMs: 60_000, signal: new AbortController().signal });
    // The reader is slow: past its 256 KiB buffer the body is paused, and what arrives then waits
    // in the body's own buffer, which its failure throws away.
    body.pause();
    for (let i = 0; i < 6; i++) first.deliver(100 * 1024);
    await new Promise((r) => setImmediate(r));
    assert.ok(first.stream.readableLength > 0, 'pieces wait in the body');
    first.stream.destroy(new BadGatewayError('the connection to the sharing site failed'));
    body.resume();
    const got = await all(body);
    assert.deepEqual(asked, [600 * 1024]);
    assert.ok(got.equals(big), 'every byte once, in order');
  });

  it('asks a non-direct body again from the last byte it emitted', async () => {
    const target = new TrackedTarget(memory(1000), 0);
    const first = new Readable({ read() {} });
    const asked: number[] = [];
    const body = new ResumingBody({ stream: first, direct: false }, target, 999, async (from) => {
      asked.push(from);
      return { stream: Readable.from([data.subarray(from)]), direct: false };
    }, { pausedCloseMs: 60_000, signal: new AbortController().signal });
    first.push(data.subarray(0, 400));
    const reading = all(body);
    await new Promise((r) => setImmediate(r));
    first.destroy(new BadGatewayError('reset'));
    assert.ok((await reading).equals(data));
    assert.deepEqual(asked, [400]);
  });

  it('fails at once on an answer a retry cannot mend, and after three failed reopens otherwise', async () => {
    const signal = new AbortController().signal;
    const broken = () => {
      const s = new Readable({ read() {} });
      setImmediate(() => s.destroy(new BadGatewayError('reset')));
      return s;
    };
    let calls = 0;
    const changed = new ResumingBody({ stream: broken(), direct: false }, new TrackedTarget(memory(10), 0), 9, async () => {
      calls++;
      throw new PreconditionFailedError();
    }, { pausedCloseMs: 60_000, signal });
    await assert.rejects(all(changed), PreconditionFailedError);
    assert.equal(calls, 1);

    calls = 0;
    const t0 = Date.now();
    const down = new ResumingBody({ stream: broken(), direct: false }, new TrackedTarget(memory(10), 0), 9, async () => {
      calls++;
      throw new BadGatewayError('refused');
    }, { pausedCloseMs: 60_000, signal });
    await assert.rejects(all(down), BadGatewayError);
    assert.equal(calls, 3);
    assert.ok(Date.now() - t0 >= 2500, 'waited 0, 0.5 and 2 s');
  });

  it('closes a body its reader holds paused, keeps what it received, and reopens when the reader reads on', async () => {
    const { size, big, target, first } = directSpan();
    const reopened: string[] = [];
    const body = new ResumingBody({ stream: first.stream, direct: true, length: size }, target, size - 1, async (from, t) => {
      const next = directBody(t, big);
      setImmediate(() => {
        next.deliver(size - from);
        next.stream.push(null);
      });
      return { stream: next.stream, direct: true, length: size - from };
    }, { pausedCloseMs: 80, signal: new AbortController().signal, onReopen: (why, at) => reopened.push(`${why}@${at}`), onHeld: () => reopened.push('held') });
    // The reader takes nothing: more than its 256 KiB buffer arrives, and the body is paused.
    body.pause();
    for (let i = 0; i < 4; i++) first.deliver(100 * 1024);
    assert.equal(body.held, false, 'not held at once');
    await new Promise((r) => setTimeout(r, 40));
    // heldNoticeMs is a quarter of pausedCloseMs (20 ms here): held, still open.
    assert.ok(body.held);
    assert.deepEqual(reopened, ['held']);
    assert.ok(!first.stream.destroyed, 'still held before pausedCloseMs');
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(first.stream.destroyed, 'closed after pausedCloseMs');
    assert.deepEqual(reopened, ['held', `paused@${400 * 1024}`]);
    body.resume();
    assert.ok((await all(body)).equals(big));
    assert.equal(body.held, false, 'not held once it flows again');
  });
});
