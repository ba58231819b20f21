/**
 * Replays the bad-input corpus (fixtures/dav/bad-input/cases.json): every request gets its 4xx
 * (502 for a Destination on another server, as RFC 4918 §9.8.5 says) with a reason, the tree is
 * unchanged afterwards, and normal requests still work.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDavNode, parseMultistatus, type DavNode } from './support/dav-node.js';

interface Case {
  name: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  bodyFile?: string;
  oversizeBody?: boolean;
  status: number;
}

const dir = join(import.meta.dirname, '../../fixtures/dav/bad-input');
const cases = JSON.parse(readFileSync(join(dir, 'cases.json'), 'utf8')) as Case[];

describe('DAV bad-input corpus', function () {
  let n: DavNode;
  let snapshot: string;

  /** Every path with its ETag and size, and the dead properties of one file. */
  async function tree(): Promise<string> {
    const out: string[] = [];
    const walk = async (p: string) => {
      const ms = parseMultistatus((await n.req('PROPFIND', `${n.base}${p}`, { headers: { depth: '1' } })).text);
      for (const [href, stats] of ms) {
        const props = stats.find((s) => s.status === 200)!.props;
        out.push(`${href} ${String(props.getetag)} ${String(props.getcontentlength ?? '-')}`);
        if (href.endsWith('/') && href !== `${n.base}${p === '/' ? '/' : p + '/'}`) await walk(href.slice(n.base.length, -1));
      }
    };
    await walk('/');
    const dead = await n.req('PROPFIND', `${n.base}/docs/a.txt`, { headers: { depth: '0' }, body: '<propfind xmlns="DAV:"><propname/></propfind>' });
    return out.sort().join('\n') + '\n' + dead.text;
  }

  before(async () => {
    n = await startDavNode();
    await n.node.services.users.add({ name: 'bob', password: 'bob password 1' });
    await n.req('MKCOL', `${n.base}/docs`);
    await n.req('PUT', `${n.base}/docs/a.txt`, { body: 'original' });
    await n.req('PUT', `${n.base}/docs/b.txt`, { body: 'other' });
    snapshot = await tree();
  });
  after(() => n.stop());

  for (const c of cases) {
    it(`${c.name} → ${c.status}`, async () => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(c.headers ?? {})) headers[k] = v.replaceAll('{base}', n.base);
      let body: string | undefined = c.body;
      if (c.bodyFile) body = readFileSync(join(dir, c.bodyFile), 'utf8');
      if (c.oversizeBody) {
        const limit = n.node.config.limits.xmlBodyBytes;
        body = '<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop>' + '<d:getetag/>'.repeat(Math.ceil(limit / 12) + 1) + '</d:prop></d:propfind>';
      }
      if (body !== undefined && !headers['content-type']) headers['content-type'] = 'application/xml';
      const r = await n.req(c.method, `${n.base}${c.path}`, { headers, body });
      assert.equal(r.status, c.status, `${c.method} ${c.path}: ${r.text.slice(0, 300)}`);
      if (r.status >= 400 && c.method !== 'HEAD') assert.match(r.text, /<s:message>[^<]+<\/s:message>/, 'a reason is given');
    });
  }

  it('left the tree unchanged and still answers normal requests', async () => {
    assert.equal(await tree(), snapshot);
    assert.equal((await n.req('GET', `${n.base}/docs/a.txt`)).text, 'original');
    assert.equal((await n.req('PUT', `${n.base}/docs/c.txt`, { body: 'new' })).status, 201);
    assert.equal((await n.req('GET', `${n.base}/docs/c.txt`)).text, 'new');
  });
});
