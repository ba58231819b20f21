/**
 * The reference servers meshdav is measured against, on the same files in the same run:
 * `rclone serve webdav` (always) and Apache httpd with mod_dav (when apache2 is installed),
 * both with Basic auth like meshdav, on loopback, configured entirely in a temporary directory.
 */
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { freePort, startChild, waitForHttp } from './proc.js';
import { basic, type DavServer } from './meshdav.js';

export async function startRcloneServe(dir: string, user: string, password: string): Promise<DavServer> {
  const port = await freePort();
  const child = startChild('rclone', ['serve', 'webdav', dir, '--addr', `127.0.0.1:${port}`, '--user', user, '--pass', password]);
  const davUrl = `http://127.0.0.1:${port}/`;
  await waitForHttp(davUrl, child);
  return { name: 'rclone', davUrl, auth: basic(user, password), child, stop: () => child.stop() };
}

const APACHE_MODULES = '/usr/lib/apache2/modules';

export function apacheAvailable(): boolean {
  return existsSync('/usr/sbin/apache2') && existsSync(join(APACHE_MODULES, 'mod_dav_fs.so'));
}

/**
 * Apache 2.4 (mpm_event) serving `dir` with DAV On under `/dav/`. Runs as root's chosen user
 * www-data when started as root, so `dir` and its parents are made world-readable.
 */
export async function startApache(dir: string, workDir: string, user: string, password: string): Promise<DavServer> {
  const port = await freePort();
  mkdirSync(join(workDir, 'logs'), { recursive: true });
  mkdirSync(join(workDir, 'lock'), { recursive: true });
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    for (let d = dir; d !== '/' && d !== '/tmp'; d = dirname(d)) chmodSync(d, 0o755);
    chmodSync(workDir, 0o777);
    chmodSync(join(workDir, 'lock'), 0o777);
  }
  const htpasswd = join(workDir, 'htpasswd');
  writeFileSync(htpasswd, `${user}:{SHA}${createHash('sha1').update(password).digest('base64')}\n`, { mode: 0o644 });
  const mods = ['mpm_event', 'authz_core', 'authn_core', 'authn_file', 'auth_basic', 'authz_user', 'dav', 'dav_fs', 'alias'];
  const conf = [
    `ServerRoot "${workDir}"`,
    `PidFile "${join(workDir, 'httpd.pid')}"`,
    `Listen 127.0.0.1:${port}`,
    'ServerName 127.0.0.1',
    ...mods.filter((m) => existsSync(join(APACHE_MODULES, `mod_${m}.so`))).map((m) => `LoadModule ${m}_module ${APACHE_MODULES}/mod_${m}.so`),
    ...(asRoot ? ['User www-data', 'Group www-data'] : []),
    `ErrorLog "${join(workDir, 'logs', 'error.log')}"`,
    'LogLevel warn',
    // A fixed set of processes and long keep-alive: no connection is closed under the load test.
    'StartServers 4',
    'ServerLimit 4',
    'ThreadsPerChild 64',
    'MaxRequestWorkers 256',
    'MinSpareThreads 64',
    'MaxSpareThreads 256',
    'KeepAlive On',
    'KeepAliveTimeout 60',
    'MaxKeepAliveRequests 0',
    `DavLockDB "${join(workDir, 'lock', 'davlock')}"`,
    'EnableSendfile On',
    `Alias /dav "${dir}"`,
    `<Directory "${dir}">`,
    '  Dav On',
    '  AuthType Basic',
    '  AuthName "bench"',
    `  AuthUserFile "${htpasswd}"`,
    '  Require valid-user',
    '</Directory>',
    '',
  ].join('\n');
  const confFile = join(workDir, 'httpd.conf');
  writeFileSync(confFile, conf);
  const child = startChild('/usr/sbin/apache2', ['-f', confFile, '-DFOREGROUND'], {
    env: { ...process.env, APACHE_RUN_DIR: workDir, APACHE_LOCK_DIR: workDir, APACHE_LOG_DIR: join(workDir, 'logs') },
  });
  const davUrl = `http://127.0.0.1:${port}/dav/`;
  await waitForHttp(davUrl, child);
  return { name: 'apache', davUrl, auth: basic(user, password), child, stop: () => child.stop() };
}
