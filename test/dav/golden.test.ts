/**
 * Responses compared with golden XML in fixtures/dav/golden, as parsed trees with namespaces
 * resolved (not strings): prefixes, whitespace and attribute order may differ; `{name}`
 * placeholders match any value and must be the same wherever the same name appears.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseXml, type XmlElement, type XmlNode } from '../../src/dav/xml.js';
import { startDavNode, type DavNode } from './support/dav-node.js';

const dir = join(import.meta.dirname, '../../fixtures/dav/golden');
const golden = (name: string) => readFileSync(join(dir, name), 'utf8');

/** Drops whitespace-only text; returns a comparable JSON-ish tree. */
function normal(n: XmlNode): unknown {
  if (typeof n === 'string') return n;
  const kids = n.children.filter((c) => typeof c !== 'string' || c.trim() !== '').map(normal);
  return { name: `{${n.ns}}${n.local}`, kids };
}

function match(expected: unknown, actual: unknown, vars: Map<string, string>, where: string): void {
  if (typeof expected === 'string') {
    assert.equal(typeof actual, 'string', `${where}: expected text`);
    const m = /^\{(\w+)\}$/.exec(expected.trim());
    if (m) {
      const prev = vars.get(m[1]!);
      if (prev === undefined) vars.set(m[1]!, actual as string);
      else assert.equal(actual, prev, `${where}: {${m[1]}} differs`);
      return;
    }
    assert.equal((actual as string).trim(), expected.trim(), where);
    return;
  }
  const e = expected as { name: string; kids: unknown[] };
  const a = actual as { name: string; kids: unknown[] };
  assert.equal(a?.name, e.name, where);
  assert.equal(a.kids.length, e.kids.length, `${where}/${e.name}: ${JSON.stringify(a.kids)}`);
  e.kids.forEach((k, i) => match(k, a.kids[i], vars, `${where}/${e.name}[${i}]`));
}

function assertGolden(expectedXml: string, actualXml: string): Map<string, string> {
  const vars = new Map<string, string>();
  match(normal(parseXml(expectedXml) as XmlElement), normal(parseXml(actualXml)), vars, '');
  return vars;
}

describe('DAV golden responses', function () {
  let n: DavNode;
  before(async () => {
    n = await startDavNode();
    await n.req('MKCOL', `${n.base}/golden`);
    await n.req('PUT', `${n.base}/golden/n%C3%A4me%20%26%20more.txt`, { body: 'hello world', headers: { 'content-type': 'text/plain' } });
  });
  after(() => n.stop());

  it('PROPFIND of a file with the ownCloud/Nextcloud/OCM properties', async () => {
    const r = await n.req('PROPFIND', `${n.base}/golden/n%C3%A4me%20%26%20more.txt`, { headers: { depth: '0' }, body: golden('propfind-oc-request.xml') });
    assert.equal(r.status, 207);
    const vars = assertGolden(golden('propfind-oc-file.xml'), r.text);
    assert.match(vars.get('etag')!, /^".+"$/);
    assert.ok(!Number.isNaN(Date.parse(vars.get('date')!)));
  });

  it('LOCK response body', async () => {
    const r = await n.req('LOCK', `${n.base}/golden`, {
      headers: { depth: 'infinity', timeout: 'Second-3600' },
      body: '<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner><D:href>mailto:alice@example.org</D:href></D:owner></D:lockinfo>',
    });
    assert.equal(r.status, 200);
    const vars = assertGolden(golden('lock-response.xml'), r.text);
    assert.equal(`<${vars.get('token')}>`, r.headers['lock-token']);
    assert.match(vars.get('timeout')!, /^Second-(3600|3599)$/);
  });
});
