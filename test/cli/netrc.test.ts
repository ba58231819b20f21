import assert from 'node:assert/strict';
import { lookupNetrc, parseNetrc } from '../../src/cli/client/netrc.js';
import { resolveCredentials } from '../../src/cli/client/credentials.js';

describe('netrc reader', () => {
  const text = [
    '# a comment line',
    'machine files.example.org login alice password "pass word \\"quoted\\""',
    'macdef init',
    'machine not-a-machine login mallory password evil',
    '',
    'machine 127.0.0.1',
    '  login bob',
    '  account ignored',
    '  password b0b',
    'machine 127.0.0.1 login carol password c4rol',
    'default login anonymous password guest',
    '',
  ].join('\n');

  it('reads machines, quoted tokens, default, and skips macro bodies', () => {
    const entries = parseNetrc(text);
    assert.deepEqual(entries, [
      { machine: 'files.example.org', login: 'alice', password: 'pass word "quoted"' },
      { machine: '127.0.0.1', login: 'bob', password: 'b0b' },
      { machine: '127.0.0.1', login: 'carol', password: 'c4rol' },
      { login: 'anonymous', password: 'guest' },
    ]);
  });

  it('finds the host (case-insensitively), the login if one is asked for, else the default', () => {
    const entries = parseNetrc(text);
    assert.equal(lookupNetrc(entries, 'FILES.example.org')?.login, 'alice');
    assert.equal(lookupNetrc(entries, '127.0.0.1')?.login, 'bob');
    assert.equal(lookupNetrc(entries, '127.0.0.1', 'carol')?.password, 'c4rol');
    assert.equal(lookupNetrc(entries, 'other.example')?.login, 'anonymous');
    assert.equal(lookupNetrc(parseNetrc('machine a login x password y'), 'b'), undefined);
  });

  it('credentials: flags, then the URL, then the environment; a user without a password is completed for that user only', async () => {
    const url = new URL('http://127.0.0.1:8080/remote.php/dav/files/x/');
    const env = { MESHDAV_USER: 'envuser', MESHDAV_PASSWORD: 'envpw', HOME: '/nonexistent' };
    assert.deepEqual(await resolveCredentials(url, {}, env), { user: 'envuser', password: 'envpw' });
    assert.deepEqual(await resolveCredentials(new URL('http://u:p%40ss@127.0.0.1/'), {}, env), { user: 'u', password: 'p@ss' });
    // --user other than MESHDAV_USER: the environment's password is not that user's.
    assert.deepEqual(await resolveCredentials(url, { user: 'flaguser', netrc: '/dev/null' }, env), { user: 'flaguser', password: '' });
    assert.equal(await resolveCredentials(url, { netrc: '/dev/null' }, {}), undefined);
  });
});
