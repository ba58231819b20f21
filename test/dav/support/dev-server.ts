/**
 * Development harness: a DavServer over a LocalFs home on a fresh temp dir, Basic auth with one
 * fixed user, for running litmus and benchmarks by hand against the protocol layer alone:
 *   npx tsx test/dav/support/dev-server.ts [port]   → prints the URL; Ctrl-C to stop.
 */
import Koa from 'koa';
import { Level } from 'level';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errorMiddleware } from '../../../src/http/error-middleware.js';
import { createLogger } from '../../../src/log.js';
import { LocalStorage } from '../../../src/storage/local-storage.js';
import { DavServer } from '../../../src/dav/server.js';
import { davRouter } from '../../../src/dav/routes.js';
import { nextcloudRouter } from '../../../src/dav/nextcloud/routes.js';
import { UnauthorizedError } from '../../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'meshdav-dav-dev-'));
const log = createLogger({ level: 'error' });
const db = new Level<string, unknown>(join(dir, 'db'), { valueEncoding: 'json' });
await db.open();
const storage = await LocalStorage.open({ dataDir: dir, db: db as never, log, quotaBytes: null, maxVersions: 0 });
const dav = new DavServer({ limits: { xmlBodyBytes: 1024 * 1024 } });
const auth = {
  async basic(ctx: Koa.Context) {
      const m = /^Basic (.+)$/.exec(ctx.get('authorization'));
      const [u, p] = m ? Buffer.from(m[1]!, 'base64').toString().split(':') : [];
      if (u === 'alice' && p === 'secret') return { name: 'alice' };
      throw new UnauthorizedError('auth', { headers: { 'WWW-Authenticate': 'Basic realm="meshdav"' } });
    },
};
const namespaces = { forUser: (u: string) => storage.home(u) };
const router = davRouter({
  dav,
  auth,
  users: { get: async (n) => (n === 'alice' ? { name: 'alice' } : null) },
  namespaces,
});
const app = new Koa();
app.use(errorMiddleware(log));
app.use(router.routes());
let publicUrl = '';
app.use(nextcloudRouter({ config: { get publicUrl() { return publicUrl; } }, auth, namespaces }).routes());
const port = Number(process.argv[2] ?? 0);
const server = app.listen(port, '127.0.0.1', () => {
  const a = server.address() as { port: number };
  publicUrl = `http://127.0.0.1:${a.port}`;
  console.log(`http://127.0.0.1:${a.port}/remote.php/dav/files/alice/ alice secret (data ${dir})`);
});

// Exit normally on Ctrl-C / SIGTERM so `node --cpu-prof` writes its profile.
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(0));
