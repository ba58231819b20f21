/**
 * The OCM code flow: the token endpoint a sender serves (src/ocm/token-endpoint.ts), the token
 * a receiver's mount exchanges the share's secret for and reads with (src/ocm/token-client.ts,
 * src/mounts/exchanged-token.ts), between real nodes: B requires the code flow
 * (`requireTokenExchange`), so A's shares to B carry `must-exchange-token`.
 */
import assert from 'node:assert/strict';
import { AccessTokens } from '../../src/ocm/access-tokens.js';
import { ExchangedToken } from '../../src/mounts/exchanged-token.js';
import type { TestNode } from '../support/node.js';
import { client, domainOf, putFile, startMesh } from './mesh.js';

describe('ExchangedToken: the access token of a code-flow mount', () => {
  it('exchanges once, reuses the token until 80 % of its lifetime, and renews a refused one once', async () => {
    let now = 0;
    let n = 0;
    const calls: number[] = [];
    const source = new ExchangedToken(async () => {
      calls.push(now);
      n++;
      return { accessToken: `t${n}`, expiresIn: 100 };
    }, () => now);
    const [a, b] = await Promise.all([source.get(), source.get()]);
    assert.deepEqual([a, b, n], ['t1', 't1', 1], 'concurrent first uses share one exchange');
    now = 79_000;
    assert.equal(await source.get(), 't1');
    now = 80_000;
    assert.equal(await source.get(), 't2', 'renewed at 80 % of its lifetime');
    // Two requests refused with t2 at once: one new exchange between them.
    const [c, d] = await Promise.all([source.renew('t2'), source.renew('t2')]);
    assert.deepEqual([c, d, n], ['t3', 't3', 3]);
    assert.equal(await source.renew('t2'), 't3', 'a refusal of a token already replaced exchanges nothing');
    assert.equal(n, 3);
  });

  it('passes an exchange failure on, and tries again on the next use', async () => {
    let fail = true;
    const source = new ExchangedToken(async () => {
      if (fail) throw new Error('sender down');
      return { accessToken: 'ok', expiresIn: 60 };
    });
    await assert.rejects(source.get(), /sender down/);
    fail = false;
    assert.equal(await source.get(), 'ok');
  });
});

describe('OCM code flow between real nodes', function () {
  this.timeout(60_000);
  let a: TestNode, b: TestNode, c: TestNode;

  before(async () => {
    [a, b, c] = await startMesh(3, {
      users: [[['einstein', 'Albert Einstein', 'einstein@a.example']], [['marie', 'Marie Curie', 'marie@b.example']], [['mallory', 'Mallory', 'm@c.example']]],
      extra: [{}, { requireTokenExchange: true }, {}],
    });
    const inv = await client(a, 'einstein').post('/sciencemesh/generate-invite');
    assert.equal((await client(b, 'marie').post('/sciencemesh/accept-invite', { token: inv.json.token, providerDomain: domainOf(a) })).status, 200);
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop(), c?.stop()]);
  });

  /** A's share of `path` (a new file with `content`, or an existing folder) with marie at B, accepted; returns B's received record and A's sent one. */
  async function shareToB(path: string, content?: string) {
    if (content !== undefined) await putFile(a, 'einstein', path, content);
    const sent = await client(a, 'einstein').post('/sciencemesh/create-share', { sourcePath: path, recipientUsername: 'marie', recipientHost: domainOf(b), role: 'viewer' });
    assert.equal(sent.status, 201, sent.text);
    const name = path.split('/').pop()!;
    const received = (await b.services.ocm.received.list('marie')).find((r) => r.name === name)!;
    assert.equal((await client(b, 'marie').post(`/sciencemesh/received-shares/${received.id}/accept`)).status, 200);
    return { received, sent: await a.services.ocm.sent.get('einstein', sent.json.id) };
  }

  const tokenRequest = (from: TestNode, fields: Record<string, string>, type = 'form') => {
    const url = `${a.url}/ocm/token`;
    const body = type === 'form' ? new URLSearchParams(fields).toString() : JSON.stringify(fields);
    return from.services.ocm.messageSigner.headers('POST', url, body).then((signed) =>
      fetch(url, { method: 'POST', headers: { 'content-type': type === 'form' ? 'application/x-www-form-urlencoded' : 'application/json', ...signed }, body }),
    );
  };

  it('publishes the token endpoint, and B asks for the code flow', async () => {
    const docA = (await client(a, 'einstein').get('/.well-known/ocm')).json;
    assert.ok(docA.capabilities.includes('exchange-token'));
    assert.equal(docA.tokenEndPoint, `${a.url}/ocm/token`);
    assert.ok(!docA.criteria.includes('must-exchange-token'));
    const docB = (await client(b, 'marie').get('/.well-known/ocm')).json;
    assert.ok(docB.criteria.includes('must-exchange-token'));
  });

  it('marks A\'s share to B must-exchange-token; B\'s mount reads it with exchanged tokens', async () => {
    const issued = a.services.ocm.accessTokens.issued;
    const { received } = await shareToB('/coded.txt', 'read through a token');
    assert.equal(received.webdav.mustExchangeToken, true);
    const read = await client(b, 'marie').get('/remote.php/dav/files/marie/Shares/coded.txt');
    assert.equal(read.status, 200);
    assert.equal(read.text, 'read through a token');
    assert.equal(a.services.ocm.accessTokens.issued, issued + 1, 'one token was issued to B');
    const metrics = await (await fetch(`${a.url}/metrics`)).text();
    assert.match(metrics, /^meshdav_ocm_access_tokens_issued_total [1-9]/m);
  });

  it('answers token requests: the token opens its share and no other; bad requests get OAuth errors', async () => {
    const { sent } = await shareToB('/other.txt', 'other');
    const { sent: first } = await shareToB('/first.txt', 'first');
    const ok = await tokenRequest(b, { grant_type: 'authorization_code', client_id: domainOf(b), code: sent.secret });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('cache-control'), 'no-store');
    const body = (await ok.json()) as { access_token: string; token_type: string; expires_in: number };
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.expires_in, 900);
    const at = (id: string, token: string) => fetch(`${a.url}/remote.php/dav/ocm/${id}`, { headers: { authorization: `Bearer ${token}` } });
    const own = await at(sent.id, body.access_token);
    assert.equal(own.status, 200);
    assert.equal(await own.text(), 'other');
    assert.equal((await at(first.id, body.access_token)).status, 401, 'a token opens its own share only');
    assert.equal((await at(sent.id, 'not-a-token')).status, 401);
    // B required the code flow: the secret itself opens nothing.
    assert.equal(sent.tokenOnly, true);
    const bySecret = await at(sent.id, sent.secret);
    assert.equal(bySecret.status, 401);
    assert.match(await bySecret.text(), /access tokens only/);
    // OCM 1.2's JSON form and grant type.
    const json = await tokenRequest(b, { grant_type: 'ocm_authorization_code', client_id: domainOf(b), code: sent.secret }, 'json');
    assert.equal(json.status, 200);

    const error = async (res: Response, code: string) => {
      assert.equal(res.status, 400);
      assert.equal(((await res.json()) as { error: string }).error, code);
    };
    await error(await tokenRequest(b, { grant_type: 'authorization_code', client_id: domainOf(b) }), 'invalid_request');
    await error(await tokenRequest(b, { grant_type: 'password', client_id: domainOf(b), code: sent.secret }), 'unsupported_grant_type');
    await error(await tokenRequest(b, { grant_type: 'authorization_code', client_id: domainOf(b), code: 'wrong-secret' }), 'invalid_grant');
    // C, signing as itself, asks for B's share.
    await error(await tokenRequest(c, { grant_type: 'authorization_code', client_id: domainOf(c), code: sent.secret }), 'unauthorized_client');
    // C, signing as itself, in B's name.
    await error(await tokenRequest(c, { grant_type: 'authorization_code', client_id: domainOf(b), code: sent.secret }), 'invalid_client');
    // Unsigned, in the name of B (which signs).
    const unsigned = await fetch(`${a.url}/ocm/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', client_id: domainOf(b), code: sent.secret }).toString(),
    });
    await error(unsigned, 'invalid_client');
    const notForm = await fetch(`${a.url}/ocm/token`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'code=x' });
    assert.equal(notForm.status, 400);
  });

  it('exchanges again when the sender no longer knows the token, and unmounts a share whose secret the sender refuses', async () => {
    await putFile(a, 'einstein', '/folder/one.txt', 'one');
    await putFile(a, 'einstein', '/folder/two.txt', 'two');
    const { received, sent } = await shareToB('/folder');
    const marie = client(b, 'marie');
    assert.equal((await marie.get('/remote.php/dav/files/marie/Shares/folder/one.txt')).text, 'one');
    const issued = a.services.ocm.accessTokens.issued;
    // A forgets its tokens (as a restart does): B's next request is refused, and B exchanges again.
    (a.services.ocm as { accessTokens: AccessTokens }).accessTokens = new AccessTokens();
    assert.equal((await marie.get('/remote.php/dav/files/marie/Shares/folder/two.txt')).text, 'two');
    assert.equal(a.services.ocm.accessTokens.issued, 1, 'B exchanged the secret again');
    assert.ok(issued >= 1);
    // A drops the share without telling B: the token stops working, the exchange gets invalid_grant.
    await a.services.ocm.sent.remove(sent);
    await putFile(a, 'einstein', '/folder/three.txt', 'three');
    const gone = await marie.get('/remote.php/dav/files/marie/Shares/folder/three.txt');
    assert.ok(gone.status === 404 || gone.status === 410, `status ${gone.status}`);
    for (let i = 0; i < 50 && (await b.services.ocm.received.list('marie')).some((r) => r.id === received.id); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(!(await b.services.ocm.received.list('marie')).some((r) => r.id === received.id), 'the revoked share was removed');
    assert.equal((await marie.get('/remote.php/dav/files/marie/Shares/folder/one.txt')).status, 404);
  });
});
