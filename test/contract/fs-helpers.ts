/** Small helpers for Fs tests: write/read strings and buffers, expect typed errors. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import type { MeshdavError } from '../../src/errors.js';
import type { Fs, WriteOptions, WriteResult } from '../../src/fs/types.js';

export function bodyOf(content: string | Buffer): Readable {
  return Readable.from([typeof content === 'string' ? Buffer.from(content) : content]);
}

export function put(fs: Fs, path: string, content: string | Buffer, options?: WriteOptions): Promise<WriteResult> {
  return fs.write(path, bodyOf(content), options);
}

export async function readBuf(fs: Fs, path: string, range?: { start: number; end?: number }): Promise<Buffer> {
  return buffer(await fs.openRead(path, range ? { range } : {}));
}

export async function readText(fs: Fs, path: string, range?: { start: number; end?: number }): Promise<string> {
  return (await readBuf(fs, path, range)).toString('utf8');
}

/** A body that yields `head` and then fails, like a client that disconnects mid-upload. */
export function failingBody(head: Buffer | string): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (!sent) {
        sent = true;
        this.push(typeof head === 'string' ? Buffer.from(head) : head);
      } else {
        setImmediate(() => this.destroy(new Error('client went away')));
      }
    },
  });
}

export async function expectError<T>(
  p: Promise<T>,
  type: new (...args: never[]) => MeshdavError,
  what = '',
): Promise<MeshdavError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof type, `${what}: expected ${type.name}, got ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`);
    return err as MeshdavError;
  }
  assert.fail(`${what}: expected ${type.name}, but it succeeded`);
}

export const sha1 = (b: Buffer | string) => createHash('sha1').update(b).digest('hex');
export const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('hex');

export async function exists(fs: Fs, path: string): Promise<boolean> {
  try {
    await fs.stat(path);
    return true;
  } catch {
    return false;
  }
}
