/** Unit tests of the DAV helpers that need no node: XML, If header, ranges, locks. */
import assert from 'node:assert/strict';
import { parseXml, serializeChildren, elements } from '../../src/dav/xml.js';
import { parseIfHeader, submittedTokens, evaluateIf } from '../../src/dav/conditional.js';
import { parseRange, MAX_RANGES } from '../../src/dav/range.js';
import { LockManager, parseTimeout, MAX_TIMEOUT_S } from '../../src/dav/locks.js';
import { resolveUrl } from '../../src/dav/destination.js';
import { BadRequestError, LockedError, RangeNotSatisfiableError } from '../../src/errors.js';

describe('DAV xml', () => {
  it('resolves namespaces, default and prefixed, and decodes predefined entities', () => {
    const root = parseXml('<D:propfind xmlns:D="DAV:" xmlns="urn:z"><D:prop><a>x &amp; &#233;</a></D:prop></D:propfind>');
    assert.equal(root.ns, 'DAV:');
    const prop = elements(root)[0]!;
    const a = elements(prop)[0]!;
    assert.deepEqual([a.ns, a.local, a.children[0]], ['urn:z', 'a', 'x & é']);
  });

  it('refuses DOCTYPE, entity declarations, undeclared entities and prefixes, malformed XML', () => {
    const bad = [
      '<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>',
      '<?xml version="1.0"?><!doctype x SYSTEM "file:///etc/passwd"><x/>',
      '<x>&nbsp;</x>',
      '<p:x/>',
      '<x><y></x>',
      '<x xmlns:p=""><p:y/></x>',
      '<a/><b/>',
    ];
    for (const b of bad) assert.throws(() => parseXml(b), BadRequestError, b);
  });

  it('serialises children as a self-contained fragment that parses back to the same tree', () => {
    const root = parseXml('<x xmlns="urn:a"><y xmlns:q="urn:q" q:attr="1" plain="2">t<q:z>&lt;</q:z></y></x>');
    const frag = serializeChildren(root);
    const again = parseXml(`<w>${frag}</w>`);
    const y = elements(again)[0]!;
    assert.equal(y.ns, 'urn:a');
    assert.equal(elements(y)[0]!.ns, 'urn:q');
    assert.equal(elements(y)[0]!.children[0], '<');
  });
});

describe('DAV If header', () => {
  it('parses untagged and tagged lists with Not, tokens and etags', () => {
    const lists = parseIfHeader('(<opaquelocktoken:a> ["e1"]) (Not <DAV:no-lock>)');
    assert.equal(lists.length, 2);
    assert.deepEqual(lists[0]!.conditions, [{ not: false, token: 'opaquelocktoken:a' }, { not: false, etag: 'e1' }]);
    assert.deepEqual(lists[1]!.conditions, [{ not: true, token: 'DAV:no-lock' }]);
    assert.deepEqual([...submittedTokens(lists)], ['opaquelocktoken:a']);
    const tagged = parseIfHeader('<http://h/a> (<t1>) </b> (["x"])');
    assert.deepEqual(tagged.map((l) => l.resource), ['http://h/a', '/b']);
  });

  it('refuses malformed headers', () => {
    for (const h of ['(', '<x>', 'garbage', '()', '(<a>) <http://x> (<b>)', '(foo)', '(Not)']) {
      assert.throws(() => parseIfHeader(h), BadRequestError, h);
    }
  });

  it('is true when one list holds', async () => {
    const r = { pathOf: (t: string) => (t === '/x' ? '/x' : null), etagOf: async () => 'e1', tokenCovers: (t: string) => t === 'good' };
    assert.equal(await evaluateIf(parseIfHeader('(<bad>) (["e1"])'), '/x', r), true);
    assert.equal(await evaluateIf(parseIfHeader('(<bad>) (["e2"])'), '/x', r), false);
    assert.equal(await evaluateIf(parseIfHeader('(Not <bad>)'), '/x', r), true);
    assert.equal(await evaluateIf(parseIfHeader('</elsewhere> (<good>)'), '/x', r), false);
    assert.equal(await evaluateIf(parseIfHeader('</x> (<good> ["e1"])'), '/x', r), true);
  });
});

describe('DAV ranges', () => {
  it('parses single, suffix, open and multiple ranges, clamped to the size', () => {
    assert.deepEqual(parseRange('bytes=0-9', 100), [{ start: 0, end: 9 }]);
    assert.deepEqual(parseRange('bytes=-10', 100), [{ start: 90, end: 99 }]);
    assert.deepEqual(parseRange('bytes=95-', 100), [{ start: 95, end: 99 }]);
    assert.deepEqual(parseRange('bytes=90-200', 100), [{ start: 90, end: 99 }]);
    assert.deepEqual(parseRange('bytes=0-1,10-11', 100), [{ start: 0, end: 1 }, { start: 10, end: 11 }]);
  });

  it('sends the whole body for other units, bad syntax, overlaps and too many ranges', () => {
    assert.equal(parseRange('items=0-1', 100), null);
    assert.equal(parseRange('bytes=5-1', 100), null);
    assert.equal(parseRange('bytes=abc', 100), null);
    assert.equal(parseRange('bytes=0-50,40-60', 100), null);
    const many = Array.from({ length: MAX_RANGES + 1 }, (_, i) => `${i * 2}-${i * 2}`).join(',');
    assert.equal(parseRange(`bytes=${many}`, 1000), null);
  });

  it('answers 416 with the size when nothing is satisfiable', () => {
    assert.throws(
      () => parseRange('bytes=100-200', 100),
      (e: unknown) => e instanceof RangeNotSatisfiableError && e.headers['Content-Range'] === 'bytes */100',
    );
  });
});

describe('DAV locks', () => {
  it('grants exclusive and shared locks and refuses conflicts', () => {
    const m = new LockManager();
    const a = m.create('u', { root: '/d', scope: 'shared', depth: 'infinity', owner: '', timeout: 60 });
    m.create('u', { root: '/d', scope: 'shared', depth: 0, owner: '', timeout: 60 });
    assert.throws(() => m.create('u', { root: '/d/f', scope: 'exclusive', depth: 0, owner: '', timeout: 60 }), LockedError);
    assert.doesNotThrow(() => m.create('other', { root: '/d/f', scope: 'exclusive', depth: 0, owner: '', timeout: 60 }));
    assert.throws(() => m.assertCanModify('u', '/d/f', new Set()), LockedError);
    assert.doesNotThrow(() => m.assertCanModify('u', '/d/f', new Set([a.token])));
    assert.ok(m.remove('u', a.token, '/d/f'));
  });

  it('protects the membership of a depth-0 locked collection and the members of a deep one', () => {
    const m = new LockManager();
    const l = m.create('u', { root: '/c', scope: 'exclusive', depth: 0, owner: '', timeout: 60 });
    assert.throws(() => m.assertCanModify('u', '/c/new', new Set(), { member: true }), LockedError);
    assert.doesNotThrow(() => m.assertCanModify('u', '/c/new', new Set([l.token]), { member: true }));
    assert.doesNotThrow(() => m.assertCanModify('u', '/c/x', new Set()));
    assert.throws(() => m.assertCanModify('u', '/', new Set(), { deep: true }), LockedError);
  });

  it('expires locks and refreshes them', () => {
    let now = 1_000_000;
    const m = new LockManager(() => now);
    const l = m.create('u', { root: '/f', scope: 'exclusive', depth: 0, owner: '', timeout: 10 });
    now += 5_000;
    m.refresh('u', l.token, '/f', 10);
    now += 9_000;
    assert.ok(m.get('u', l.token));
    now += 2_000;
    assert.equal(m.get('u', l.token), undefined);
    assert.equal(parseTimeout('Infinite, Second-4100000000'), MAX_TIMEOUT_S);
    assert.equal(parseTimeout('Second-600'), 600);
  });
});

describe('DAV Destination resolution', () => {
  const target = { fs: {} as never, base: '/remote.php/dav/files/alice', lockScope: 'u' };
  const ctx = (host: string) => ({ protocol: 'http', host }) as never;
  it('accepts absolute URLs on this host (default port or not) and absolute paths', () => {
    assert.deepEqual(resolveUrl(ctx('example.org'), target, 'http://example.org:80/remote.php/dav/files/alice/a%20b'), { kind: 'ok', path: '/a b' });
    assert.deepEqual(resolveUrl(ctx('example.org:8080'), target, 'http://EXAMPLE.org:8080/remote.php/dav/files/alice/x/'), { kind: 'ok', path: '/x' });
    assert.deepEqual(resolveUrl(ctx('example.org'), target, '/remote.php/dav/files/alice/%C3%A9'), { kind: 'ok', path: '/é' });
    assert.deepEqual(resolveUrl(ctx('example.org'), target, '/remote.php/dav/files/alice'), { kind: 'ok', path: '/' });
  });
  it('tells another host and outside the base apart; scheme and port may differ; If tags ignore the authority', () => {
    assert.equal(resolveUrl(ctx('example.org'), target, 'http://other.org/remote.php/dav/files/alice/a').kind, 'other-host');
    assert.equal(resolveUrl(ctx('example.org'), target, 'https://example.org:8443/remote.php/dav/files/alice/a').kind, 'ok');
    assert.equal(resolveUrl(ctx('127.0.0.1:8080'), target, 'https://cloud.example.org/remote.php/dav/files/alice/a').kind, 'other-host');
    assert.equal(resolveUrl(ctx('127.0.0.1:8080'), target, 'https://cloud.example.org/remote.php/dav/files/alice/a', { hosts: ['cloud.example.org'] }).kind, 'ok');
    assert.deepEqual(resolveUrl(ctx('127.0.0.1:8080'), target, 'https://cloud.example.org/remote.php/dav/files/alice/a', { anyAuthority: true }), { kind: 'ok', path: '/a' });
    assert.equal(resolveUrl(ctx('example.org'), target, '/remote.php/dav/files/alicex/a').kind, 'outside');
    assert.throws(() => resolveUrl(ctx('example.org'), target, '/remote.php/dav/files/alice/%2e%2e/bob'), BadRequestError);
  });
});

describe('DAV live properties of remote (mounted) entries', () => {
  it('renders S/M permission letters, the OCM owner and the meshdav remote-* properties', async () => {
    const { renderResponse } = await import('../../src/dav/methods/propfind.js');
    const { Perm } = await import('../../src/fs/types.js');
    const e = {
      path: '/Shares/proj/a.txt', name: 'a.txt', type: 'file' as const, size: 3, mtime: 1_700_000_000_000, etag: 'x', fileId: '9',
      mime: 'text/plain', permissions: Perm.READ | Perm.UPDATE | Perm.DELETE,
      remote: { shareId: 's1', owner: 'bob@other.example', provider: 'other.example', state: 'unavailable' as const },
    };
    const names = ['{http://owncloud.org/ns}permissions', '{http://owncloud.org/ns}owner-id', '{http://nextcloud.org/ns}mount-type',
      '{http://meshdav.org/ns}remote-provider', '{http://meshdav.org/ns}remote-share-id', '{http://meshdav.org/ns}remote-state',
      '{http://open-cloud-mesh.org/ns}share-permissions'];
    const xml = renderResponse(e, { mode: 'prop', names }, { locksOn: () => [], hrefFor: (p) => '/dav' + p, quota: null, user: { name: 'alice' } }, null);
    assert.match(xml, /<oc:permissions>SMDNVW<\/oc:permissions>/);
    assert.match(xml, /<oc:owner-id>bob@other.example<\/oc:owner-id>/);
    assert.match(xml, /<nc:mount-type>shared<\/nc:mount-type>/);
    assert.match(xml, /<m:remote-provider>other.example<\/m:remote-provider><m:remote-share-id>s1<\/m:remote-share-id><m:remote-state>unavailable<\/m:remote-state>/);
    assert.match(xml, /<ocm:share-permissions>\[&quot;read&quot;,&quot;write&quot;\]<\/ocm:share-permissions>/);
    assert.doesNotMatch(xml, /404/);
  });
});
