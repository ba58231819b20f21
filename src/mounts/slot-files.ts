/**
 * Open descriptors of the disk tier's slot files (chunk-store.ts), kept across uses. A cold GiB
 * through a mount fills 256 slots and a warm one reads them back; opening and closing a file for
 * each (two more thread-pool round trips per chunk) cost ~0.1 s of main-thread time per GiB on the
 * test machine.
 *
 * Contracts: a descriptor is open for reading and writing (the file is created if absent); one in
 * use (acquired, not released) is never closed; beyond `maxIdle` open descriptors, unused ones
 * are closed, the least recently used first; after `close()` every descriptor is closed once
 * unused.
 */
import { close, constants, open } from 'node:fs';

interface SlotFile {
  fd: Promise<number>;
  users: number;
}

export interface SlotHandle {
  fd: number;
  /** Gives the descriptor back (call once; it may be closed afterwards). */
  release(): void;
}

function openFd(file: string): Promise<number> {
  return new Promise((resolve, reject) => {
    open(file, constants.O_RDWR | constants.O_CREAT, 0o600, (err, fd) => (err ? reject(err) : resolve(fd)));
  });
}

function closeFd(p: Promise<number>): void {
  void p.then(
    (fd) => close(fd, () => undefined),
    () => undefined,
  );
}

export class SlotFiles {
  /** In least-recently-used order (a use moves the slot to the end). */
  private readonly files = new Map<number, SlotFile>();
  private closed = false;

  constructor(
    private readonly pathOf: (slot: number) => string,
    private readonly maxIdle = 256,
  ) {}

  async acquire(slot: number): Promise<SlotHandle> {
    if (this.closed) throw new Error('the cache is closed');
    let f = this.files.get(slot);
    if (f) this.files.delete(slot);
    else f = { fd: openFd(this.pathOf(slot)), users: 0 };
    this.files.set(slot, f);
    f.users++;
    const file = f;
    let fd: number;
    try {
      fd = await file.fd;
    } catch (err) {
      file.users--;
      if (this.files.get(slot) === file) this.files.delete(slot);
      throw err;
    }
    let held = true;
    return {
      fd,
      release: () => {
        if (!held) return;
        held = false;
        file.users--;
        this.trim();
      },
    };
  }

  /** Open descriptors (used or not). */
  get size(): number {
    return this.files.size;
  }

  /** Closes every descriptor now unused, and the others when they are released. */
  close(): void {
    this.closed = true;
    this.trim();
  }

  private trim(): void {
    const limit = this.closed ? 0 : this.maxIdle;
    for (const [slot, f] of this.files) {
      if (this.files.size <= limit) return;
      if (f.users > 0) continue;
      this.files.delete(slot);
      closeFd(f.fd);
    }
  }
}
