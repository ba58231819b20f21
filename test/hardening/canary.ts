/**
 * A canary world for hardening tests: two federated nodes (A: alice, carol; B: bob), a tree in
 * alice's home, a read-only and a writable share from alice to bob (both accepted), an open, a
 * used and an expired invite — and a snapshot of everything an attack could change.
 */
import { createHash } from 'node:crypto';
import type { TestNode } from '../support/node.js';
import { client, domainOf, putFile, startMesh, PASSWORD } from '../ocm/mesh.js';
import { hasDeadProps } from '../../src/fs/guards.js';
import type { Fs } from '../../src/fs/types.js';

export interface Canary {
  a: TestNode;
  b: TestNode;
  /** Values substituted for `{name}` placeholders in hostile fixtures. */
  vars: Record<string, string>;
  stop(): Promise<void>;
}

export async function startCanary(): Promise<Canary> {
  const [a, b] = await startMesh(2, {
    users: [
      [
        ['alice', 'Alice Liddell', 'alice@a.example'],
        ['carol', 'Carol Shaw', 'carol@a.example'],
      ],
      [['bob', 'Bob Dylan', 'bob@b.example']],
    ],
  });
  try {
    await putFile(a, 'alice', '/canary/a.txt', 'alpha content\n');
    await putFile(a, 'alice', '/canary/sub/b.bin', Buffer.alloc(65536, 7));
    await putFile(a, 'alice', '/ro/ro.txt', 'read only\n');
    await putFile(a, 'alice', '/rw/rw.txt', 'read write\n');
    const home = await a.services.storage.home('alice');
    await home.patchProps('/canary/a.txt', { set: { '{urn:canary}colour': 'blue' } });

    const alice = client(a, 'alice');
    const bob = client(b, 'bob');
    const used = await alice.post('/sciencemesh/generate-invite', {});
    const acc = await bob.post('/sciencemesh/accept-invite', { token: used.json.token, providerDomain: domainOf(a) });
    if (acc.status !== 200) throw new Error(`canary: accept-invite ${acc.status} ${acc.text}`);
    const open = await alice.post('/sciencemesh/generate-invite', {});
    const expired = await alice.post('/sciencemesh/generate-invite', {});
    const inv = a.services.ocm.db.invites;
    const rec = await inv.get(expired.json.token);
    await inv.put(expired.json.token, { ...rec!, expiresAt: Date.now() - 1000 });

    const shares: Record<string, { id: string; secret: string }> = {};
    for (const [name, role] of [['ro', 'viewer'], ['rw', 'editor']] as const) {
      const s = await alice.post('/sciencemesh/create-share', { sourcePath: `/${name}`, recipientUsername: 'bob', recipientHost: domainOf(b), role });
      if (s.status !== 201) throw new Error(`canary: create-share ${s.status} ${s.text}`);
      const received = (await b.services.ocm.received.list('bob')).find((r) => r.remoteShareId === s.json.id)!;
      const ok = await bob.post(`/sciencemesh/received-shares/${received.id}/accept`, {});
      if (ok.status !== 200) throw new Error(`canary: accept share ${ok.status} ${ok.text}`);
      shares[name] = { id: s.json.id, secret: received.webdav.sharedSecret };
    }
    const vars = {
      user: 'alice',
      adomain: domainOf(a),
      bdomain: domainOf(b),
      cdomain: 'untrusted.example:1',
      ro: shares.ro!.id,
      rw: shares.rw!.id,
      roRemoteId: shares.ro!.id,
      roSecret: shares.ro!.secret,
      rwSecret: shares.rw!.secret,
      openToken: open.json.token,
      usedToken: used.json.token,
      expiredToken: expired.json.token,
      password: PASSWORD,
    };
    return { a, b, vars, stop: () => Promise.all([a.stop(), b.stop()]).then(() => undefined) };
  } catch (err) {
    await Promise.all([a.stop(), b.stop()]);
    throw err;
  }
}

async function sha1(fs: Fs, path: string): Promise<string> {
  const h = createHash('sha1');
  for await (const chunk of await fs.openRead(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Everything an attack could change: trees (content, ids, ETags, dead props), shares, contacts, invites, users. */
export async function snapshot(c: Canary): Promise<unknown> {
  const tree = async (node: TestNode, user: string) => {
    const fs = await node.services.storage.home(user);
    const out: unknown[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const e of (await fs.list(dir)).sort((x, y) => x.path.localeCompare(y.path))) {
        const props = hasDeadProps(fs) ? await fs.getProps(e.path) : {};
        out.push({ path: e.path, type: e.type, size: e.size, etag: e.etag, id: e.fileId, props, sum: e.type === 'file' ? await sha1(fs, e.path) : undefined });
        if (e.type === 'dir') await walk(e.path);
      }
    };
    await walk('/');
    return out;
  };
  const strip = <T extends object>(xs: T[]) => xs.map((x) => JSON.parse(JSON.stringify(x, (k, v) => (k === 'updatedAt' ? undefined : v))));
  return {
    alice: await tree(c.a, 'alice'),
    carol: await tree(c.a, 'carol'),
    bob: await tree(c.b, 'bob'),
    sent: strip(await c.a.services.ocm.sent.list('alice')),
    received: strip(await c.b.services.ocm.received.list('bob')),
    invites: await c.a.services.ocm.invites.list('alice'),
    contactsA: strip(await c.a.services.ocm.contacts.list('alice')),
    contactsB: strip(await c.b.services.ocm.contacts.list('bob')),
    usersA: (await c.a.services.users.list()).map((u) => u.name),
    usersB: (await c.b.services.users.list()).map((u) => u.name),
  };
}
