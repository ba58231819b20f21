/**
 * Two real nodes on loopback with a fault proxy on the mount path: alice on sender A shares her
 * folder /data with bob on receiver B, and B reaches A only through the proxy (A's public URL is
 * the proxy's), so tests can make the sender slow, failing or gone.
 */
import assert from 'node:assert/strict';
import type { ConfigInput } from '../../src/config.js';
import { startTestNode, type TestNode } from '../support/node.js';
import { client, freePort, putFile, PASSWORD } from '../ocm/mesh.js';
import { FaultProxy } from './fault-proxy.js';

export interface ProxiedShare {
  a: TestNode;
  b: TestNode;
  proxy: FaultProxy;
  /** Path of bob's mount of alice's /data on B, below B's URL. */
  mountPath: string;
  stop(): Promise<void>;
}

/** Starts A (with `sender` config), the proxy and B (with `receiver` config), puts `files` in alice's /data and mounts it for bob. */
export async function startProxiedShare(receiver: ConfigInput, files: Record<string, string | Buffer>, sender: ConfigInput = {}): Promise<ProxiedShare> {
  const [pa, pp, pb] = [await freePort(), await freePort(), await freePort()];
  const proxied = `127.0.0.1:${pp}`;
  const a = await startTestNode({ port: pa, publicUrl: `http://${proxied}`, trustedProviders: [`127.0.0.1:${pb}`], ...sender });
  const proxy = new FaultProxy(pa, pp);
  await proxy.start();
  const b = await startTestNode({ port: pb, trustedProviders: [proxied], ...receiver });
  const stop = async () => {
    await proxy.stop();
    await Promise.all([a.stop(), b.stop()]);
  };
  try {
    await a.services.users.add({ name: 'alice', password: PASSWORD, displayName: 'Alice' });
    await b.services.users.add({ name: 'bob', password: PASSWORD, displayName: 'Bob' });
    for (const [name, content] of Object.entries(files)) await putFile(a, 'alice', `/data/${name}`, content);
    const inv = await client(a, 'alice').post('/sciencemesh/generate-invite', {});
    const acc = await client(b, 'bob').post('/sciencemesh/accept-invite', { token: inv.json.token, providerDomain: proxied });
    assert.equal(acc.status, 200, acc.text);
    const s = await client(a, 'alice').post('/sciencemesh/create-share', { sourcePath: '/data', recipientUsername: 'bob', recipientHost: `127.0.0.1:${pb}`, role: 'viewer' });
    assert.equal(s.status, 201, s.text);
    const rec = (await b.services.ocm.received.list('bob'))[0]!;
    const ok = await client(b, 'bob').post(`/sciencemesh/received-shares/${rec.id}/accept`, {});
    assert.equal(ok.status, 200, ok.text);
    return { a, b, proxy, mountPath: `/remote.php/dav/files/bob${ok.json.mountPoint}`, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
