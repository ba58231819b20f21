/**
 * Configuration `fsync`: an upload reaches the disk (its content, its folder's entry, the metadata
 * commit) before it is answered, and so do new folders, moves, copies and deletes. Seen from
 * outside with strace on a real node process: the fsync/fdatasync calls each request makes, with
 * the option on and off. Needs strace.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, startChildNode, type ChildNode } from '../hardening/child-node.js';
import { tempDir } from '../support/node.js';
import { needTool } from '../support/tools.js';

const PASSWORD = 'fsync test password';
const AUTH = 'Basic ' + Buffer.from(`alice:${PASSWORD}`).toString('base64');

/** fsync and fdatasync calls in a strace log so far. */
function syncCalls(log: string): number {
  try {
    return (readFileSync(log, 'utf8').match(/\b(?:fsync|fdatasync)\(/g) ?? []).length;
  } catch {
    return 0;
  }
}

describe('storage: configuration fsync (strace on a real node)', function () {
  this.timeout(60_000);
  let strace: string;
  let node: ChildNode | undefined;
  before(function () {
    strace = needTool(this, 'strace', 'counts the fsync calls of a node process');
  });
  afterEach(async () => {
    if (!node) return;
    // The node runs under strace: stop the node itself, and strace ends with it.
    const pids = readFileSync(`/proc/${node.proc.pid}/task/${node.proc.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    for (const pid of pids) process.kill(Number(pid), 'SIGTERM');
    await node.stop();
    node = undefined;
  });

  for (const fsync of [true, false]) {
    it(fsync ? 'on: PUT, MKCOL, MOVE, COPY and DELETE flush what they changed on disk and their metadata commit before the answer' : 'off: they make no fsync call', async () => {
      const dataDir = tempDir(`fsync-${fsync}-`);
      await cli(['user', 'add', 'alice', '--password-stdin', '--data', dataDir], PASSWORD + '\n');
      const log = join(dataDir, '..', `strace-${fsync}.log`);
      node = await startChildNode(dataDir, 0, { MESHDAV_FSYNC: String(fsync) }, [strace, '-f', '-qq', '-e', 'trace=fsync,fdatasync', '-o', log]);
      const base = `${node.url}/remote.php/dav/files/alice`;
      // A first PUT: the node's start-up work is done by then.
      assert.equal((await fetch(`${base}/warm.txt`, { method: 'PUT', headers: { authorization: AUTH }, body: 'warm' })).status, 201);
      await new Promise((r) => setTimeout(r, 300));
      const before = syncCalls(log);
      const body = Buffer.alloc(1024 * 1024, 7);
      const res = await fetch(`${base}/data.bin`, { method: 'PUT', headers: { authorization: AUTH }, body });
      assert.equal(res.status, 201);
      const made = syncCalls(log) - before;
      if (fsync) assert.ok(made >= 3, `${made} fsync/fdatasync calls for one PUT (file, folder, metadata)`);
      else assert.equal(made, 0, `${made} fsync/fdatasync calls for one PUT`);
      const back = Buffer.from(await (await fetch(`${base}/data.bin`, { headers: { authorization: AUTH } })).arrayBuffer());
      assert.ok(back.equals(body));

      // Folders, moves, copies and deletes: their folders' entries and their commits are flushed
      // too (a copy also flushes the new files). Each with the fewest calls it can make when on.
      const ops: Array<[string, string, Record<string, string>, number]> = [
        ['MKCOL', '/dir', {}, 2], // the parent folder, the metadata batch
        ['MOVE', '/data.bin', { destination: `${base}/dir/moved.bin` }, 3], // both folders, the batch
        ['COPY', '/dir', { destination: `${base}/copy` }, 4], // the copied file and folder, the parent, the batch
        ['DELETE', '/copy', {}, 3], // the parent, the trash folder, the batch
      ];
      for (const [method, path, headers, least] of ops) {
        await new Promise((r) => setTimeout(r, 200));
        const from = syncCalls(log);
        const r = await fetch(`${base}${path}`, { method, headers: { authorization: AUTH, ...headers } });
        assert.ok(r.status >= 200 && r.status < 300, `${method} ${path}: ${r.status}`);
        await new Promise((r) => setTimeout(r, 200));
        const n = syncCalls(log) - from;
        if (fsync) assert.ok(n >= least, `${method}: ${n} fsync/fdatasync calls, expected at least ${least}`);
        else assert.equal(n, 0, `${method}: ${n} fsync/fdatasync calls`);
      }
    });
  }
});
