import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../support/node.js';
import { runCli } from './support.js';

describe('meshdav demo', function () {
  this.timeout(120_000);

  it('--once runs invite → accept → share → accept between two sites and reads the file through the mount', async () => {
    const data = join(tempDir('demo-'), 'sites');
    const r = await runCli(['demo', '--once', '--data', data]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^demo OK: einstein@127\.0\.0\.1:\d+ shared "demo" with marie@127\.0\.0\.1:\d+; read 91 bytes of hello\.txt through http:\/\/127\.0\.0\.1:\d+\/remote\.php\/dav\/files\/marie\/Shares\/demo\/\n$/,
    );
    assert.deepEqual(readdirSync(data).sort(), ['site-a', 'site-b'], 'each site has its own data directory');
  });

  it('refuses a non-empty --data directory with one line', async () => {
    const data = tempDir('demo-full-');
    writeFileSync(join(data, 'something'), 'x');
    const r = await runCli(['demo', '--once', '--data', data]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, `meshdav: ${data} is not empty — the demo sets up two fresh sites; give a new or empty directory to --data\n`);
  });
});
