/**
 * `meshdav demo`: two sites on loopback, each trusting the other, and the whole ScienceMesh flow
 * between them through the sites' public HTTP APIs, as their users would drive it:
 *   einstein@A uploads demo/hello.txt (WebDAV) → generates an invite → marie@B accepts it →
 *   einstein shares the folder with marie → marie accepts → the folder is mounted live at
 *   /Shares/demo in marie's WebDAV home on B, its content fetched from A on every read.
 * Without --once it prints marie's mount URL and login and runs until Ctrl-C; with --once it reads
 * the file through the mount, checks it, prints a summary and exits (0, or one line and non-zero).
 */
import { mkdtempSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfig, newSecret, providerDomain } from '../config.js';
import { createLogger } from '../log.js';
import { startNode, type MeshdavNode } from '../node.js';
import { CliError, EXIT } from './errors.js';

interface DemoOptions {
  once?: boolean;
  data?: string;
}

interface Site {
  node: MeshdavNode;
  user: string;
  password: string;
}

const SAMPLE = 'Hello from site A!\nThis file lives on site A and is read live through the mount on site B.\n';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('start two federated sites on loopback and run invite → accept → share → accept between them')
    .option('--once', 'run the flow, read the shared file through the mount, check it and exit')
    .option('-d, --data <dir>', 'keep both sites under this (new or empty) directory instead of a temporary one')
    .action(async (opts: DemoOptions) => {
      const root = prepareRoot(opts.data);
      const sites: Site[] = [];
      try {
        const [portA, portB] = [await freePort(), await freePort()];
        const urlA = `http://127.0.0.1:${portA}`;
        const urlB = `http://127.0.0.1:${portB}`;
        sites.push(await startSite(join(root.dir, 'site-a'), portA, urlB, 'einstein', 'Albert Einstein'));
        sites.push(await startSite(join(root.dir, 'site-b'), portB, urlA, 'marie', 'Marie Curie'));
        const [a, b] = sites as [Site, Site];
        const mountUrl = await runFlow(a, b);
        if (opts.once) {
          const got = await step('read the shared file through the mount on site B', async () => {
            const res = await call(b, 'GET', `${mountUrl}hello.txt`, undefined, 200);
            return res.text();
          });
          if (got !== SAMPLE) throw new CliError(`demo failed: the file read through the mount differs from the one on site A`, EXIT.FAILURE);
          process.stdout.write(
            `demo OK: ${a.user}@${providerDomain(a.node.url)} shared "demo" with ${b.user}@${providerDomain(b.node.url)}; ` +
              `read ${Buffer.byteLength(got)} bytes of hello.txt through ${mountUrl}\n`,
          );
          return;
        }
        printTour(a, b, mountUrl, root);
        await untilSignal();
      } finally {
        await Promise.allSettled(sites.map((s) => s.node.close()));
        if (root.temporary) rmSync(root.dir, { recursive: true, force: true });
      }
    });
}

function prepareRoot(data: string | undefined): { dir: string; temporary: boolean } {
  if (!data) return { dir: mkdtempSync(join(tmpdir(), 'meshdav-demo-')), temporary: true };
  const dir = resolve(data);
  mkdirSync(dir, { recursive: true });
  if (readdirSync(dir).length > 0) {
    throw new CliError(`${dir} is not empty — the demo sets up two fresh sites; give a new or empty directory to --data`, EXIT.USAGE);
  }
  return { dir, temporary: false };
}

/** A loopback port nothing listens on now (bound, then released). */
function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const srv = net.createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => done(port));
    });
  });
}

async function startSite(dataDir: string, port: number, peer: string, user: string, displayName: string): Promise<Site> {
  const config = loadConfig({
    env: {},
    overrides: { host: '127.0.0.1', port, dataDir, trustedProviders: [peer], logLevel: 'error' },
    persistSecrets: true,
  });
  const node = await startNode(config, { log: createLogger({ level: 'error', destination: process.stderr }) });
  const password = newSecret(9);
  await node.services.users.add({ name: user, password, displayName, email: `${user}@example.org` });
  return { node, user, password };
}

/** Runs one step; any failure becomes "demo failed at <step>: <reason>". */
async function step<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new CliError(`demo failed at "${what}": ${reason}`, err instanceof CliError ? err.exitCode : EXIT.FAILURE);
  }
}

/** One request as the site's user (Basic); a status other than `expect` is an error naming the server's reason. */
async function call(site: Site, method: string, url: string, body: unknown, expect: number): Promise<Response> {
  const headers: Record<string, string> = { authorization: 'Basic ' + Buffer.from(`${site.user}:${site.password}`).toString('base64') };
  let payload: string | undefined;
  if (typeof body === 'string') payload = body;
  else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(url.startsWith('http') ? url : site.node.url + url, { method, headers, body: payload });
  if (res.status !== expect) {
    const text = (await res.text()).slice(0, 300).replace(/\s+/g, ' ');
    throw new Error(`${method} ${url} answered ${res.status}${text ? ` (${text})` : ''}`);
  }
  return res;
}

/** invite → accept → share → accept; returns the URL of the mounted folder in B's user's home. */
async function runFlow(a: Site, b: Site): Promise<string> {
  const homeA = `/remote.php/dav/files/${a.user}`;
  await step(`${a.user} uploads demo/hello.txt on site A`, async () => {
    await call(a, 'MKCOL', `${homeA}/demo`, undefined, 201);
    await call(a, 'PUT', `${homeA}/demo/hello.txt`, SAMPLE, 201);
  });
  const invite = await step(`${a.user} generates an invite on site A`, async () => {
    const res = await call(a, 'POST', '/sciencemesh/generate-invite', { description: 'meshdav demo' }, 200);
    return (await res.json()) as { token: string };
  });
  await step(`${b.user} accepts the invite on site B`, () =>
    call(b, 'POST', '/sciencemesh/accept-invite', { token: invite.token, providerDomain: providerDomain(a.node.url) }, 200),
  );
  await step(`${a.user} shares the folder demo with ${b.user}`, () =>
    call(a, 'POST', '/sciencemesh/create-share', { sourcePath: '/demo', recipientUsername: b.user, recipientHost: providerDomain(b.node.url), role: 'viewer' }, 201),
  );
  const mountPoint = await step(`${b.user} accepts the share on site B`, async () => {
    const list = (await (await call(b, 'GET', '/sciencemesh/received-shares', undefined, 200)).json()) as Array<{ id: string; name: string; state: string }>;
    const share = list.find((s) => s.name === 'demo' && s.state === 'pending');
    if (!share) throw new Error('the share did not arrive on site B');
    const accepted = (await (await call(b, 'POST', `/sciencemesh/received-shares/${encodeURIComponent(share.id)}/accept`, undefined, 200)).json()) as { mountPoint?: string };
    if (!accepted.mountPoint) throw new Error('the accepted share has no mount point');
    return accepted.mountPoint;
  });
  const path = mountPoint.split('/').map(encodeURIComponent).join('/');
  return `${b.node.url}/remote.php/dav/files/${encodeURIComponent(b.user)}${path}/`;
}

function printTour(a: Site, b: Site, mountUrl: string, root: { dir: string; temporary: boolean }): void {
  const out = process.stdout;
  out.write(`meshdav demo: two sites are running, and the share is mounted.\n\n`);
  out.write(`  site A  ${a.node.url}   user ${a.user}  password ${a.password}\n`);
  out.write(`  site B  ${b.node.url}   user ${b.user}  password ${b.password}\n`);
  out.write(`  data    ${root.dir}${root.temporary ? ' (removed on exit)' : ''}\n\n`);
  out.write(`${a.user} on site A shared the folder "demo" with ${b.user} on site B. In ${b.user}'s WebDAV home it is\n`);
  out.write(`live-mounted (read through from site A on every access):\n\n  ${mountUrl}\n\n`);
  out.write(`Log in as ${b.user} / ${b.password}. Try:\n`);
  out.write(`  MESHDAV_USER=${b.user} MESHDAV_PASSWORD=${b.password} npx meshdav ls ${mountUrl}\n`);
  out.write(`  curl -u ${b.user}:${b.password} ${mountUrl}hello.txt\n`);
  out.write(`  or open ${b.node.url}/ in a browser and log in.\n\n`);
  out.write(`Press Ctrl-C to stop both sites.\n`);
}

function untilSignal(): Promise<void> {
  return new Promise((done) => {
    const stop = (signal: string) => {
      process.stdout.write(`\n${signal} received, stopping both sites…\n`);
      done();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}
