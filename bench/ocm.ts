/**
 * OCM benchmark (`node --import tsx bench/ocm.ts [--rounds N] [--size-mib N]`), two real nodes on
 * loopback in this process:
 *  - invite accept (receiver's `POST /sciencemesh/accept-invite`, which discovers the sender and
 *    forwards to its `/ocm/invite-accepted`) — p50 over N rounds, target < 50 ms; each user has
 *    logged in once before (the first Basic login pays scrypt, which is not OCM's cost);
 *  - share creation (sender's `POST /sciencemesh/create-share`, which posts to the receiver's
 *    `/ocm/shares` and stores the share) — p50 over N rounds, target < 50 ms;
 *  - GET of a 1 GiB file through the share endpoint (`/remote.php/dav/ocm/{id}`, Bearer secret)
 *    against the owner's own GET (`/remote.php/dav/files/{user}/…`) in the same run, best of
 *    `--get-rounds` (5), alternating which goes first — target ≥ 0.95×.
 * Prints figures and whether each target is met. A script, not a test.
 */
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { Agent, request } from 'undici';
import { client, domainOf, PASSWORD, startMesh } from '../test/ocm/mesh.js';
import { fmtRate, fmtRatio, median } from './lib/report.js';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const ROUNDS = arg('rounds', 40);
const SIZE = arg('size-mib', 1024) * 1024 * 1024;
const GET_ROUNDS = arg('get-rounds', 5);

const [a, b] = await startMesh(2, {
  users: [[['einstein', 'Albert Einstein', 'einstein@a.example']], [['marie', 'Marie Curie', 'marie@b.example']]],
  extra: [{ logLevel: 'warn' }, { logLevel: 'warn' }],
});
try {
  const einstein = client(a!, 'einstein');
  // A few extra receivers so every round is a fresh acceptance.
  for (let i = 0; i < ROUNDS; i++) await b!.services.users.add({ name: `u${i}`, password: PASSWORD, displayName: `User ${i}`, email: `u${i}@b.example` });

  const accept: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const inv = (await einstein.post('/sciencemesh/generate-invite')).json;
    // Log the user in first: the first Basic login of a user pays scrypt, which is not OCM's cost.
    await client(b!, `u${i}`).get('/sciencemesh/list-invite');
    const t0 = performance.now();
    const res = await client(b!, `u${i}`).post('/sciencemesh/accept-invite', { invite_string: inv.invite_string });
    accept.push(performance.now() - t0);
    if (res.status !== 200) throw new Error(`accept-invite answered ${res.status}: ${res.text}`);
  }

  const home = await a!.services.storage.home('einstein');
  await home.write('/small.txt', Readable.from([Buffer.from('hello')]));
  const create: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t0 = performance.now();
    const res = await einstein.post('/sciencemesh/create-share', { sourcePath: '/small.txt', recipientUsername: `u${i}`, recipientHost: domainOf(b!), role: 'viewer' });
    create.push(performance.now() - t0);
    if (res.status !== 201) throw new Error(`create-share answered ${res.status}: ${res.text}`);
  }

  // The big file, written through storage from a repeated random block (streamed, never in memory).
  const block = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < block.length; i++) block[i] = (i * 2654435761) >>> 24;
  await home.write('/big.bin', Readable.from((function* () {
    for (let n = 0; n < SIZE; n += block.length) yield block;
  })()));
  const share = (await einstein.post('/sciencemesh/create-share', { sourcePath: '/big.bin', recipientUsername: 'u0', recipientHost: domainOf(b!), role: 'viewer' })).json;
  const secret = (await b!.services.ocm.received.list('u0')).find((r) => r.remoteShareId === share.id)!.webdav.sharedSecret;
  const agent = new Agent({ bodyTimeout: 0, headersTimeout: 60_000 });
  async function timedGet(url: string, authorization: string): Promise<number> {
    const t0 = performance.now();
    const res = await request(url, { headers: { authorization }, dispatcher: agent });
    let n = 0;
    for await (const chunk of res.body) n += (chunk as Buffer).length;
    if (res.statusCode !== 200 || n !== SIZE) throw new Error(`GET ${url}: ${res.statusCode}, ${n} bytes`);
    return SIZE / ((performance.now() - t0) / 1000);
  }
  const owner = `${a!.url}/remote.php/dav/files/einstein/big.bin`;
  const ownerAuth = 'Basic ' + Buffer.from(`einstein:${PASSWORD}`).toString('base64');
  const viaShare = `${a!.url}/remote.php/dav/ocm/${share.id}`;
  const ownerRates: number[] = [];
  const shareRates: number[] = [];
  // Best of GET_ROUNDS, alternating which goes first, so a busy moment does not favour either side.
  for (let round = 0; round < GET_ROUNDS; round++) {
    if (round % 2 === 0) {
      ownerRates.push(await timedGet(owner, ownerAuth));
      shareRates.push(await timedGet(viaShare, `Bearer ${secret}`));
    } else {
      shareRates.push(await timedGet(viaShare, `Bearer ${secret}`));
      ownerRates.push(await timedGet(owner, ownerAuth));
    }
  }
  await agent.close();

  const p50a = median(accept);
  const p50c = median(create);
  const ratio = Math.max(...shareRates) / Math.max(...ownerRates);
  const ok = (b: boolean) => (b ? 'target met' : 'TARGET MISSED');
  console.log(`invite accept p50        ${p50a.toFixed(1)} ms over ${ROUNDS} rounds (target < 50 ms): ${ok(p50a < 50)}`);
  console.log(`share creation p50       ${p50c.toFixed(1)} ms over ${ROUNDS} rounds (target < 50 ms): ${ok(p50c < 50)}`);
  console.log(`owner GET ${SIZE / 2 ** 20} MiB        ${fmtRate(Math.max(...ownerRates))} (best of ${GET_ROUNDS})`);
  console.log(`share-endpoint GET       ${fmtRate(Math.max(...shareRates))} (best of ${GET_ROUNDS})`);
  console.log(`share / owner            ${fmtRatio(ratio)} (target ≥ 0.95×): ${ok(ratio >= 0.95)}`);
} finally {
  await Promise.all([a!.stop(), b!.stop()]);
}
