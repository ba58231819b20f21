/**
 * Helpers for the CLI tests: run `node bin/meshdav.js …` as a user would (asynchronously, so an
 * in-process server can answer), and a foreign WebDAV server (npm webdav-server v2) with one
 * user and an optional per-user quota, on an ephemeral loopback port.
 */
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { v2 as webdav } from 'webdav-server';
import { tempDir } from '../support/node.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = join(ROOT, 'bin', 'meshdav.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with a clean environment (HOME is a fresh directory, so no ~/.netrc leaks in). */
export function runCli(args: string[], opts: { env?: Record<string, string>; input?: string; cwd?: string } = {}): Promise<CliResult> {
  const home = opts.env?.HOME ?? tempDir('cli-home-');
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [BIN, ...args],
      {
        cwd: opts.cwd ?? home,
        env: { PATH: process.env.PATH ?? '', HOME: home, ...opts.env },
        maxBuffer: 64 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end(opts.input ?? '');
  });
}

export interface ForeignDav {
  url: string;
  dir: string;
  stop(): Promise<void>;
}

/** webdav-server v2 on a physical folder, Basic auth for alice:secret-pw, optional quota in bytes. */
export async function startForeignDav(opts: { quotaBytes?: number } = {}): Promise<ForeignDav> {
  const dir = tempDir('foreign-dav-');
  mkdirSync(dir, { recursive: true });
  const users = new webdav.SimpleUserManager();
  const alice = users.addUser('alice', 'secret-pw', false);
  const privileges = new webdav.SimplePathPrivilegeManager();
  privileges.setRights(alice, '/', ['all']);
  const server = new webdav.WebDAVServer({
    httpAuthentication: new webdav.HTTPBasicAuthentication(users, 'test'),
    privilegeManager: privileges,
    rootFileSystem: new webdav.PhysicalFileSystem(dir),
    ...(opts.quotaBytes !== undefined ? { storageManager: new webdav.PerUserStorageManager(opts.quotaBytes) } : {}),
  });
  // Our own listener on an ephemeral port (webdav-server's start(0) falls back to its port 1900).
  const http: Server = createServer((req, res) => (server.executeRequest as (q: unknown, s: unknown) => void)(req, res));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    dir,
    stop: () =>
      new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      }),
  };
}
