/**
 * Whole folders for `get -r` and `put -r`: a remote folder walked with PROPFIND Depth 1, folder
 * by folder, into a local one, or a local folder walked into a remote one (MKCOL, an existing
 * folder being fine). Each file goes through the command's own one-file transfer (streaming,
 * with its resume and replace rules), one at a time; symbolic links and special files are
 * skipped. Returns what each file transfer returned, in the order they ran.
 */
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CliError, EXIT } from '../errors.js';
import { child, clean, type DavSession } from './http.js';
import { isSelf, propfind } from './propfind.js';

/** Folder URL with its trailing slash. */
function asFolder(url: URL): URL {
  const u = new URL(url.href);
  if (!u.pathname.endsWith('/')) u.pathname += '/';
  return u;
}

/** Copies the remote folder `url` into local folder `dir` (made when missing), file by file through `fetch`. */
export async function getTree<T>(session: DavSession, url: URL, dir: string, fetch: (url: URL, file: string) => Promise<T>, depth = 0): Promise<T[]> {
  if (depth > 64) throw new CliError(`${clean(url)}: folders nested more than 64 deep`, EXIT.FAILURE);
  const folder = asFolder(url);
  const entries = await propfind(session, folder, '1');
  const self = entries.find((e) => isSelf(e, folder));
  if (self && self.type !== 'dir') throw new CliError(`${clean(url)} is a file — get it without -r`, EXIT.USAGE);
  await mkdir(dir, { recursive: true });
  const out: T[] = [];
  const children = entries.filter((e) => !isSelf(e, folder) && e.name && e.name !== '.' && e.name !== '..' && !e.name.includes('/'));
  children.sort((a, b) => a.name.localeCompare(b.name));
  for (const e of children) {
    const target = join(dir, e.name);
    if (e.type === 'dir') out.push(...(await getTree(session, child(folder, e.name), target, fetch, depth + 1)));
    else out.push(await fetch(child(folder, e.name), target));
  }
  return out;
}

/** Copies local folder `dir` into the remote folder `url` (made when missing), file by file through `send`. */
export async function putTree<T>(session: DavSession, dir: string, url: URL, send: (file: string, url: URL) => Promise<T>): Promise<T[]> {
  const folder = asFolder(url);
  const res = await session.request('MKCOL', folder, { ok: (s) => s === 201 || s === 200 || s === 405 });
  res.body.resume();
  const out: T[] = [];
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  for (const d of entries) {
    const local = join(dir, d.name);
    if (d.isDirectory()) out.push(...(await putTree(session, local, child(folder, d.name), send)));
    else if (d.isFile()) out.push(await send(local, child(folder, d.name)));
  }
  return out;
}
