/**
 * OCM 1.3 request signatures (RFC 9421, src/ocm/message-signatures.ts): the signer and checker
 * on their own, requests built independently the way the OCM draft's Appendix B describes (the
 * signature base written out by hand, Ed25519, ECDSA and RSA-PSS keys), which form a node sends
 * to which peer, and real nodes checking each other's RFC 9421 signatures.
 */
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign, constants, type JsonWebKey, type KeyObject } from 'node:crypto';
import { statSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { MessageSigner, verifyMessageSignature, type JwkResolver, type SignedMessage } from '../../src/ocm/message-signatures.js';
import { RemoteClient } from '../../src/ocm/remote.js';
import { RequestSigner } from '../../src/ocm/signatures.js';
import type { TestNode } from '../support/node.js';
import { tempDir } from '../support/node.js';
import { client, domainOf, putFile, sharePayload, startMesh } from './mesh.js';

/** The request a server sees for headers `signed` sent with `body` to `url`. */
function seen(url: string, body: string, signed: Record<string, string>, method = 'POST'): SignedMessage {
  const u = new URL(url);
  const headers: Record<string, string> = { 'content-length': String(Buffer.byteLength(body)), ...signed };
  return { method, url: u.pathname + u.search, hosts: [u.host], targets: [u.href], header: (n) => headers[n.toLowerCase()] ?? '', body };
}

const COMPONENTS = '("@method" "@target-uri" "content-digest" "content-length" "date")';

/** Signs as the draft's Appendix B shows, with the signature base written out by hand (no library). */
function signByHand(opts: { url: string; body: string; key: KeyObject; alg: string; keyid: string; created?: number; label?: string; date?: string }) {
  const created = opts.created ?? Math.floor(Date.now() / 1000);
  const date = opts.date ?? new Date(created * 1000).toUTCString();
  const digest = `sha-256=:${createHash('sha256').update(opts.body).digest('base64')}:`;
  const params = `${COMPONENTS};created=${created};keyid="${opts.keyid}";alg="${opts.alg}"`;
  const base = [
    `"@method": POST`,
    `"@target-uri": ${opts.url}`,
    `"content-digest": ${digest}`,
    `"content-length": ${Buffer.byteLength(opts.body)}`,
    `"date": ${date}`,
    `"@signature-params": ${params}`,
  ].join('\n');
  const data = Buffer.from(base);
  const signature =
    opts.alg === 'ed25519'
      ? sign(null, data, opts.key)
      : opts.alg === 'ecdsa-p256-sha256'
        ? sign('sha256', data, { key: opts.key, dsaEncoding: 'ieee-p1363' })
        : sign('sha512', data, { key: opts.key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 64 });
  const label = opts.label ?? 'ocm';
  return { date, 'content-digest': digest, 'signature-input': `${label}=${params}`, signature: `${label}=:${signature.toString('base64')}:` };
}

function refusedWith(pattern: RegExp) {
  return (err: Error & { status?: number }) => err.status === 400 && pattern.test(err.message);
}

describe('OCM 1.3 request signatures (RFC 9421): signer and checker', () => {
  let dir: string;
  let signer: MessageSigner;
  let jwk: JsonWebKey;
  const url = 'http://receiver.example:8443/ocm/shares';
  const body = JSON.stringify({ shareWith: 'marie@receiver.example:8443', sender: 'einstein@127.0.0.1:9999' });
  const resolver: JwkResolver = async (_identity, kid) => (kid === signer.keyId ? jwk : undefined);

  before(async () => {
    dir = tempDir('ocm-httpsig');
    signer = new MessageSigner(join(dir, 'ed.pem'), 'http://127.0.0.1:9999');
    jwk = (await signer.jwks()).keys[0]!;
  });

  it('keeps one Ed25519 key per data folder (mode 0600) and publishes it as a JWK Set keyed host#key1', async () => {
    assert.equal(statSync(join(dir, 'ed.pem')).mode & 0o777, 0o600);
    assert.equal(signer.keyId, '127.0.0.1:9999#key1');
    assert.equal(jwk.kty, 'OKP');
    assert.equal(jwk.crv, 'Ed25519');
    assert.equal(jwk.kid, '127.0.0.1:9999#key1');
    assert.ok(typeof jwk.x === 'string' && !('d' in jwk), 'the public half only');
    const again = new MessageSigner(join(dir, 'ed.pem'), 'http://127.0.0.1:9999');
    assert.deepEqual(await again.jwks(), { keys: [jwk] });
  });

  it('signs in the draft\'s form, and its signatures check to the signer\'s host', async () => {
    const h = await signer.headers('POST', url, body);
    assert.match(h['signature-input']!, /^ocm=\("@method" "@target-uri" "content-digest" "content-length" "date"\);created=\d+;keyid="127\.0\.0\.1:9999#key1";alg="ed25519"$/);
    assert.match(h.signature!, /^ocm=:[A-Za-z0-9+/]+=*:$/);
    assert.equal(h['content-digest'], `sha-256=:${createHash('sha256').update(body).digest('base64')}:`);
    assert.ok(h.date && !Number.isNaN(Date.parse(h.date)));
    assert.equal(await verifyMessageSignature(seen(url, body, h), resolver), '127.0.0.1:9999');
  });

  for (const [alg, type, extra] of [
    ['ed25519', 'ed25519', {}],
    ['ecdsa-p256-sha256', 'ec', { namedCurve: 'P-256' }],
    ['rsa-pss-sha512', 'rsa', { modulusLength: 2048 }],
  ] as const) {
    it(`accepts a request signed by hand as Appendix B shows (${alg}), next to another label it leaves alone`, async () => {
      const { privateKey, publicKey } = generateKeyPairSync(type as 'ed25519', extra as object);
      const kid = 'sender.example.org#key1';
      const key: JsonWebKey = { ...publicKey.export({ format: 'jwk' }), kid };
      const h = signByHand({ url, body, key: privateKey, alg, keyid: kid });
      // A proxy's own signature (another label, not checkable here) travels along.
      const withProxy = { ...h, 'signature-input': `proxy=("@method");created=1;keyid="proxy", ${h['signature-input']}`, signature: `proxy=:AAAA:, ${h.signature}` };
      const resolve: JwkResolver = async (identity, k) => (identity === 'sender.example.org' && k === kid ? key : undefined);
      assert.equal(await verifyMessageSignature(seen(url, body, withProxy), resolve), 'sender.example.org');
    });
  }

  it('refuses tampering, stale or future signatures, missing coverage, a second ocm label, other targets, unknown and wrong keys (400)', async () => {
    const h = await signer.headers('POST', url, body);
    const refused = (req: SignedMessage, pattern: RegExp, resolve = resolver) => assert.rejects(verifyMessageSignature(req, resolve), refusedWith(pattern));
    await refused(seen(url, body.replace('marie', 'mallory'), h), /Content-Length|Content-Digest/);
    await refused(seen(url, body.replace('marie', 'maria'), h), /Content-Digest does not match/);
    await refused(seen(url, body, { ...h, 'content-digest': `${h['content-digest']}, sha-512=:${createHash('sha512').update('other').digest('base64')}:` }), /Content-Digest does not match/);
    await assert.rejects(verifyMessageSignature(seen(url, body, h), resolver, Date.now() + 10 * 60_000), refusedWith(/too old/));
    await assert.rejects(verifyMessageSignature(seen(url, body, h), resolver, Date.now() - 5 * 60_000), refusedWith(/in the future/));
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const kid = 'sender.example.org#key1';
    const key: JsonWebKey = { ...publicKey.export({ format: 'jwk' }), kid };
    const theirs: JwkResolver = async (_i, k) => (k === kid ? key : undefined);
    const noDate = signByHand({ url, body, key: privateKey, alg: 'ed25519', keyid: kid });
    noDate['signature-input'] = noDate['signature-input'].replace(' "date")', ')');
    await refused(seen(url, body, noDate), /does not cover date/, theirs);
    const noCreated = { ...h, 'signature-input': h['signature-input']!.replace(/;created=\d+/, '') };
    await refused(seen(url, body, noCreated), /no created time/);
    await refused(seen(url, body, { ...h, 'signature-input': `${h['signature-input']}, ${h['signature-input']}` }), /more than one signature labelled ocm/);
    await refused(seen(url, body, { ...h, 'signature-input': h['signature-input']!.replace(/^ocm=/, 'sig1='), signature: h.signature!.replace(/^ocm=/, 'sig1=') }), /no signature labelled ocm/);
    await refused({ ...seen(url, body, h), targets: ['http://receiver.example:8443/ocm/notifications'] }, /not valid/);
    await refused({ ...seen(url, body, h), targets: ['https://receiver.example:8443/ocm/shares'] }, /not valid/);
    await refused(seen(url, body, h), /publishes no key/, async () => undefined);
    const other = new MessageSigner(join(tempDir('ocm-httpsig-2'), 'ed.pem'), 'http://127.0.0.1:9999');
    await refused(seen(url, body, await other.headers('POST', url, body)), /not valid/);
    // A shared-secret key cannot check an OCM signature.
    const hmac: JsonWebKey = { kty: 'oct', k: Buffer.from('secret').toString('base64url'), kid: signer.keyId };
    await refused(seen(url, body, h), /not valid/, async () => hmac);
    await refused(seen(url, body, { ...h, 'signature-input': 'ocm=("@method" ' }), /not a structured-field dictionary/);
    assert.equal(await verifyMessageSignature(seen(url, body, {}), resolver), undefined, 'unsigned: no signer');
  });

  it('fetches the key set again once when the cached one fails (the site made a new key)', async () => {
    const rotated = new MessageSigner(join(tempDir('ocm-httpsig-3'), 'ed.pem'), 'http://127.0.0.1:9999');
    const fresh = (await rotated.jwks()).keys[0]!;
    const asked: boolean[] = [];
    const resolve: JwkResolver = async (_id, _kid, isFresh) => {
      asked.push(isFresh);
      return isFresh ? fresh : jwk;
    };
    assert.equal(await verifyMessageSignature(seen(url, body, await rotated.headers('POST', url, body)), resolve), '127.0.0.1:9999');
    assert.deepEqual(asked, [false, true]);
  });
});

describe('OCM request signatures: which form goes to which peer', () => {
  it('signs RFC 9421 for a peer that lists http-sig, draft-cavage (Nextcloud\'s) for the others', async () => {
    const got: IncomingHttpHeaders[] = [];
    const server = createServer((req, res) => {
      got.push(req.headers);
      req.resume();
      req.on('end', () => res.writeHead(201, { 'content-type': 'application/json' }).end('{}'));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const dir = tempDir('ocm-forms');
    const remote = new RemoteClient(
      { connectTimeoutMs: 1000, idleTimeoutMs: 2000 },
      { cavage: new RequestSigner(join(dir, 'rsa.pem'), 'http://127.0.0.1:9999'), rfc9421: new MessageSigner(join(dir, 'ed.pem'), 'http://127.0.0.1:9999') },
    );
    try {
      const at = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ocm/shares`;
      await remote.postJson(at, { a: 1 }, { httpSig: true });
      await remote.postJson(at, { a: 1 }, { httpSig: false });
      await remote.postJson(at, { a: 1 });
      assert.match(String(got[0]!['signature-input']), /^ocm=\(/);
      assert.match(String(got[0]!.signature), /^ocm=:/);
      assert.match(String(got[0]!['content-digest']), /^sha-256=:/);
      for (const h of got.slice(1)) {
        assert.equal(h['signature-input'], undefined);
        assert.match(String(h.signature), /^keyId="http:\/\/127\.0\.0\.1:9999\/ocm#signature",algorithm="rsa-sha512"/);
        assert.match(String(h.digest), /^SHA-512=/);
      }
    } finally {
      await remote.close();
      server.close();
    }
  });
});

describe('OCM 1.3 request signatures between real nodes', function () {
  this.timeout(60_000);
  let a: TestNode, b: TestNode, c: TestNode;

  before(async () => {
    [a, b, c] = await startMesh(3, {
      users: [[['einstein', 'Albert Einstein', 'einstein@a.example']], [['marie', 'Marie Curie', 'marie@b.example']], [['mallory', 'Mallory', 'm@c.example']]],
    });
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop(), c?.stop()]);
  });

  /** POSTs `body` to `url` signed by `from`'s RFC 9421 key. */
  async function postSigned(from: TestNode, url: string, body: string, edit: (h: Record<string, string>) => Record<string, string> = (h) => h) {
    const h = edit(await from.services.ocm.messageSigner.headers('POST', url, body));
    return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...h }, body });
  }

  it('lists http-sig in discovery and serves its key at /.well-known/jwks.json', async () => {
    const doc = (await client(a, 'einstein').get('/.well-known/ocm')).json;
    assert.ok(doc.capabilities.includes('http-sig'));
    const res = await fetch(`${a.url}/.well-known/jwks.json`);
    assert.equal(res.status, 200);
    const set = (await res.json()) as { keys: JsonWebKey[] };
    assert.deepEqual(set, await a.services.ocm.messageSigner.jwks());
    assert.equal(set.keys[0]!.kid, `${domainOf(a)}#key1`);
  });

  it('runs the invite, share and accept flow over RFC 9421 signatures, each request verified', async () => {
    const verified = async (node: TestNode) => {
      const m = await (await fetch(`${node.url}/metrics`)).text();
      return Number(/^meshdav_ocm_incoming_requests_total\{signature="verified"\} (\d+)$/m.exec(m)?.[1] ?? 0);
    };
    const [onA, onB] = [await verified(a), await verified(b)];
    const einstein = client(a, 'einstein');
    const marie = client(b, 'marie');
    const inv = await einstein.post('/sciencemesh/generate-invite');
    assert.equal((await marie.post('/sciencemesh/accept-invite', { token: inv.json.token, providerDomain: domainOf(a) })).status, 200);
    assert.equal(await verified(a), onA + 1, 'A verified B\'s invite acceptance');
    await putFile(a, 'einstein', '/signed.txt', 'signed both ways');
    const sent = await einstein.post('/sciencemesh/create-share', { sourcePath: '/signed.txt', recipientUsername: 'marie', recipientHost: domainOf(b), role: 'viewer' });
    assert.equal(sent.status, 201, sent.text);
    assert.equal(await verified(b), onB + 1, 'B verified A\'s share');
    const received = (await marie.get('/sciencemesh/received-shares')).json.find((r: { name: string }) => r.name === 'signed.txt');
    assert.equal((await marie.post(`/sciencemesh/received-shares/${received.id}/accept`)).status, 200);
    assert.equal(await verified(a), onA + 2, 'A verified B\'s SHARE_ACCEPTED notification');
    const refusals = [...a.logLines, ...b.logLines].map((l) => JSON.parse(l) as { msg?: string; reason?: string }).filter((l) => l.msg === 'OCM request refused: its signature');
    assert.deepEqual(refusals, [], 'no request between the two nodes was refused');
    assert.equal((await marie.get('/remote.php/dav/files/marie/Shares/signed.txt')).text, 'signed both ways');
  });
  it('takes a share RFC 9421-signed by its sender\'s site; refuses it signed by another site, tampered, or replayed to another endpoint', async () => {
    const url = `${b.url}/ocm/shares`;
    const payload = () => JSON.stringify(sharePayload(`marie@${domainOf(b)}`, `einstein@${domainOf(a)}`));
    const forged = await postSigned(c, url, payload());
    assert.equal(forged.status, 400);
    assert.match(await forged.text(), new RegExp(`signed by ${domainOf(c)} but speaks for ${domainOf(a)}`));
    const body = payload();
    const h = await a.services.ocm.messageSigner.headers('POST', url, body);
    const tampered = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...h }, body: body.replace('x.txt', 'y.txt') });
    assert.equal(tampered.status, 400);
    const elsewhere = await fetch(`${b.url}/ocm/notifications`, { method: 'POST', headers: { 'content-type': 'application/json', ...h }, body });
    assert.equal(elsewhere.status, 400);
    assert.match(await elsewhere.text(), /signature is not valid/);
    const before = (await b.services.ocm.received.list('marie')).length;
    assert.equal(before, 1, 'nothing was stored but the share of the flow above');
    const ok = await postSigned(a, url, payload());
    assert.equal(ok.status, 201, await ok.text());
    assert.equal((await b.services.ocm.received.list('marie')).length, before + 1);
  });

});
