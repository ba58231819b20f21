/**
 * OCM request signatures (src/ocm/signatures.ts, signed-origin.ts): the signer and verifier on
 * their own, a request built the way Nextcloud builds it, and real nodes refusing forged,
 * tampered and unsigned requests in the name of a site that signs.
 */
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { RequestSigner, verifyRequest, type IncomingRequest, type KeyResolver } from '../../src/ocm/signatures.js';
import type { TestNode } from '../support/node.js';
import { tempDir } from '../support/node.js';
import { domainOf, postAs, sharePayload, startMesh, client } from './mesh.js';

/** The request a server sees for headers `signed` sent with `body` to `url`. */
function seen(url: string, body: string, signed: Record<string, string>, method = 'POST'): IncomingRequest {
  const u = new URL(url);
  const headers: Record<string, string> = { ...signed, 'content-length': String(Buffer.byteLength(body)) };
  return { method, url: u.pathname + u.search, hosts: [u.host], header: (n) => headers[n.toLowerCase()] ?? '', body };
}

describe('OCM request signatures: signer and verifier', () => {
  let dir: string;
  let signer: RequestSigner;
  const url = 'http://remote.example:8443/ocm/shares';
  const body = JSON.stringify({ shareWith: 'marie@remote.example:8443', sender: 'einstein@127.0.0.1:9999' });
  let pem: string;
  const resolver: KeyResolver = async (_identity, keyId) => (keyId === signer.keyId ? pem : undefined);

  before(async () => {
    dir = tempDir('ocm-sig');
    signer = new RequestSigner(join(dir, 'key.pem'), 'http://127.0.0.1:9999');
    pem = (await signer.publicKey()).publicKeyPem;
  });

  it('keeps one key per data folder, readable by its owner only', async () => {
    assert.equal(statSync(join(dir, 'key.pem')).mode & 0o777, 0o600);
    const again = new RequestSigner(join(dir, 'key.pem'), 'http://127.0.0.1:9999');
    assert.equal((await again.publicKey()).publicKeyPem, pem);
    assert.equal(signer.keyId, 'http://127.0.0.1:9999/ocm#signature');
  });

  it('signs as Nextcloud does, and its own signatures verify to the signer\'s host', async () => {
    const h = await signer.headers('POST', url, body);
    assert.match(h.signature!, /^keyId="http:\/\/127\.0\.0\.1:9999\/ocm#signature",algorithm="rsa-sha512",headers="\(request-target\) content-length date digest host",signature="[A-Za-z0-9+/=]+"$/);
    assert.match(h.digest!, /^SHA-512=/);
    assert.equal(await verifyRequest(seen(url, body, h), resolver), '127.0.0.1:9999');
  });

  it('accepts a request signed the way Nextcloud 31 signs (rsa-sha256, SHA-256 digest), built independently', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const keyId = 'https://cloud.example.org/ocm#signature';
    const date = new Date().toUTCString();
    const digest = 'SHA-256=' + createHash('sha256').update(body).digest('base64');
    const text = [`(request-target): post /ocm/shares`, `content-length: ${Buffer.byteLength(body)}`, `date: ${date}`, `digest: ${digest}`, `host: remote.example:8443`].join('\n');
    const signature = sign('sha256', Buffer.from(text), privateKey).toString('base64');
    const headers = { date, digest, signature: `keyId="${keyId}",algorithm="rsa-sha256",headers="(request-target) content-length date digest host",signature="${signature}"` };
    const key = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    assert.equal(await verifyRequest(seen(url, body, headers), async (id, k) => (id === 'cloud.example.org' && k === keyId ? key : undefined)), 'cloud.example.org');
  });

  it('refuses tampered bodies, stale dates, missing coverage, another host, unknown keys and bad signatures (400)', async () => {
    const h = await signer.headers('POST', url, body);
    const refused = async (req: IncomingRequest, pattern: RegExp, resolve = resolver) => {
      await assert.rejects(verifyRequest(req, resolve), (err: Error & { status?: number }) => err.status === 400 && pattern.test(err.message));
    };
    await refused(seen(url, body.replace('marie', 'mallory'), h), /Digest/);
    await refused(seen(url, body, { ...h, date: new Date(Date.now() - 10 * 60_000).toUTCString() }), /Date/);
    await refused(seen(url, body, { ...h, signature: h.signature!.replace('content-length date digest host', 'date digest') }), /does not cover content-length, host/);
    await refused({ ...seen(url, body, h), hosts: ['other.example'] }, /not valid/);
    await refused({ ...seen(url, body, h), url: '/ocm/notifications' }, /not valid/);
    await refused(seen(url, body, h), /publishes no key/, async () => undefined);
    const other = new RequestSigner(join(tempDir('ocm-sig-2'), 'key.pem'), 'http://127.0.0.1:9999');
    await refused(seen(url, body, await other.headers('POST', url, body)), /not valid/);
    assert.equal(await verifyRequest(seen(url, body, {}), resolver), undefined, 'unsigned: no signer');
    const rfc9421 = { 'signature-input': 'ocm=("@method" "@target-uri");created=1', signature: 'ocm=:AAAA:' };
    assert.equal(await verifyRequest(seen(url, body, rfc9421), resolver), undefined, 'RFC 9421: not checked, not refused');
  });

  it('looks a key up again once when the cached one fails (the site made a new key)', async () => {
    const rotated = new RequestSigner(join(tempDir('ocm-sig-3'), 'key.pem'), 'http://127.0.0.1:9999');
    const fresh = (await rotated.publicKey()).publicKeyPem;
    const asked: boolean[] = [];
    const resolve: KeyResolver = async (_id, _keyId, isFresh) => {
      asked.push(isFresh);
      return isFresh ? fresh : pem;
    };
    assert.equal(await verifyRequest(seen(url, body, await rotated.headers('POST', url, body)), resolve), '127.0.0.1:9999');
    assert.deepEqual(asked, [false, true]);
  });
});

describe('OCM request signatures between real nodes', function () {
  this.timeout(60_000);
  let a: TestNode, b: TestNode, c: TestNode;

  before(async () => {
    [a, b, c] = await startMesh(3, {
      users: [[['einstein', 'Albert Einstein', 'einstein@a.example']], [['marie', 'Marie Curie', 'marie@b.example']], [['mallory', 'Mallory', 'm@c.example']]],
    });
    const inv = (await client(a, 'einstein').post('/sciencemesh/generate-invite')).json;
    assert.equal((await client(b, 'marie').post('/sciencemesh/accept-invite', { invite_string: inv.invite_string })).status, 200);
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop(), c?.stop()]);
  });

  it('publishes the node\'s key in its discovery', async () => {
    const doc = (await client(a, 'einstein').get('/.well-known/ocm')).json;
    assert.equal(doc.publicKey.keyId, `${a.url}/ocm#signature`);
    assert.match(doc.publicKey.publicKeyPem, /^-----BEGIN PUBLIC KEY-----/);
    assert.deepEqual(doc.publicKey, await a.services.ocm.signer.publicKey());
  });

  it('takes a share signed by its sender\'s site, and refuses it unsigned, tampered or signed by another site', async () => {
    const url = `${b.url}/ocm/shares`;
    const payload = () => JSON.stringify(sharePayload(`marie@${domainOf(b)}`, `einstein@${domainOf(a)}`));
    const unsigned = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: payload() });
    assert.equal(unsigned.status, 400);
    assert.match(await unsigned.text(), /signs its OCM requests, and this one is not signed/);
    // Signed by C (trusted by B), in A's name.
    const forged = await postAs(c, url, payload());
    assert.equal(forged.status, 400);
    assert.match(await forged.text(), new RegExp(`signed by ${domainOf(c)} but speaks for ${domainOf(a)}`));
    // A's signature, another body.
    const body = payload();
    const signed = await a.services.ocm.signer.headers('POST', url, body);
    const tampered = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...signed }, body: body.replace('x.txt', 'y.txt') });
    assert.equal(tampered.status, 400);
    assert.deepEqual(await b.services.ocm.received.list('marie'), [], 'nothing was stored');
    const ok = await postAs(a, url, payload());
    assert.equal(ok.status, 201, await ok.text());
    assert.equal((await b.services.ocm.received.list('marie')).length, 1);
    const metrics = await (await fetch(`${b.url}/metrics`)).text();
    const count = (sig: string) => Number(new RegExp(`^meshdav_ocm_incoming_requests_total\\{signature="${sig}"\\} (\\d+)$`, 'm').exec(metrics)?.[1]);
    assert.ok(count('refused') >= 3, 'unsigned, foreign-signed and tampered were counted refused');
    assert.ok(count('verified') >= 1, 'this share was counted verified');
    const reasons = b.logLines.map((l) => JSON.parse(l) as { msg?: string; reason?: string }).filter((l) => l.msg === 'OCM request refused: its signature');
    assert.ok(reasons.some((l) => /this one is not signed/.test(l.reason!)) && reasons.some((l) => /signed by .* but speaks for/.test(l.reason!)), 'each refusal is logged with its reason');
    const onA = await (await fetch(`${a.url}/metrics`)).text();
    assert.match(onA, /^meshdav_ocm_incoming_requests_total\{signature="verified"\} [1-9]/m, 'A counted B\'s signed invite acceptance');
  });

  it('checks the host and path the signer used: the node\'s public URL whatever Host a reverse proxy passes on, or the Host it arrives with', async () => {
    const url = `${b.url}/ocm/shares`;
    const body = JSON.stringify(sharePayload(`marie@${domainOf(b)}`, `einstein@${domainOf(a)}`));
    const signed = await a.services.ocm.signer.headers('POST', url, body);
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(url, { method: 'POST', headers: { ...signed, host: 'meshdav-internal:8080', 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.once('error', reject);
      req.end(body);
    });
    assert.equal(status, 201);
    // Signed for, and sent to, another name of the node (the Host it arrives with).
    const alias = `${b.url.replace('127.0.0.1', 'localhost')}/ocm/shares`;
    const again = JSON.stringify(sharePayload(`marie@${domainOf(b)}`, `einstein@${domainOf(a)}`));
    assert.equal((await postAs(a, alias, again)).status, 201);
  });

  it('refuses an unsigned or foreign-signed SHARE_UNSHARED for a share from a signing site', async () => {
    const payload = sharePayload(`marie@${domainOf(b)}`, `einstein@${domainOf(a)}`);
    assert.equal((await postAs(a, `${b.url}/ocm/shares`, JSON.stringify(payload))).status, 201);
    const note = JSON.stringify({ notificationType: 'SHARE_UNSHARED', resourceType: 'file', providerId: payload.providerId, notification: { sharedSecret: payload.protocol.webdav.sharedSecret } });
    const url = `${b.url}/ocm/notifications`;
    assert.equal((await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: note })).status, 400);
    assert.equal((await postAs(c, url, note)).status, 400);
    const before = (await b.services.ocm.received.list('marie')).length;
    assert.equal((await postAs(a, url, note)).status, 201);
    assert.equal((await b.services.ocm.received.list('marie')).length, before - 1);
  });
});
