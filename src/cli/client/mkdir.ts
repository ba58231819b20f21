/** `meshdav mkdir [-p] URL`: create a folder (and with -p its missing parents). */
import type { Command } from 'commander';
import { CliError, EXIT } from '../errors.js';
import { addClientOptions, printJson, withSession, type ClientOptions } from './common.js';
import type { DavSession } from './http.js';

interface MkdirOptions extends ClientOptions {
  parents?: boolean;
}

export function registerMkdir(program: Command): void {
  addClientOptions(
    program
      .command('mkdir')
      .argument('<url>', 'WebDAV URL of the folder to create')
      .option('-p, --parents', 'create missing parent folders too; no error if it exists')
      .description('create a folder on a WebDAV server'),
  ).action(async (urlArg: string, opts: MkdirOptions) => {
    await withSession(urlArg, opts, async (session, url) => {
      const created = opts.parents ? await mkdirParents(session, url, 0) : await mkcol(session, url);
      if (opts.json) printJson({ url: url.href, created });
    });
  });
}

async function mkcol(session: DavSession, url: URL): Promise<boolean> {
  await session.request('MKCOL', url, { ok: (s) => s === 201 || s === 200 });
  return true;
}

/** MKCOL; on 409 (parent missing) create the parent first; 405 (exists) is fine. Returns whether `url` was created. */
async function mkdirParents(session: DavSession, url: URL, depth: number): Promise<boolean> {
  const res = await session.request('MKCOL', url, { ok: (s) => s === 201 || s === 200 || s === 405 || s === 409 });
  res.body.resume();
  if (res.status === 201 || res.status === 200) return true;
  if (res.status === 405) return false;
  const parent = new URL(url.href);
  parent.pathname = url.pathname.replace(/\/+$/, '').replace(/[^/]*$/, '');
  if (parent.pathname === url.pathname || parent.pathname === '/' || depth > 64) {
    throw new CliError(`MKCOL ${url.href}: 409 Conflict — a file is in the way of this folder`, EXIT.CONFLICT);
  }
  await mkdirParents(session, parent, depth + 1);
  return mkcol(session, url);
}
