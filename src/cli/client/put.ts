/** `meshdav put FILE URL`: upload a local file (or - for standard input), streaming, with a progress bar; `-r`: a whole folder. */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { Readable } from 'node:stream';
import type { Command } from 'commander';
import { CliError, EXIT } from '../errors.js';
import { addClientOptions, printJson, withSession, type ClientOptions } from './common.js';
import { child, clean, type DavSession } from './http.js';
import { putTree } from './tree.js';
import { meter, type Meter } from './progress.js';

interface PutOptions extends ClientOptions {
  recursive?: boolean;
  progress?: boolean;
}

export function registerPut(program: Command): void {
  addClientOptions(
    program
      .command('put')
      .argument('<file>', 'local file to upload (- for standard input); with -r, a local folder')
      .argument('<url>', 'WebDAV URL to write; ending in / = into that folder under the local name')
      .option('-r, --recursive', 'upload a folder and everything in it (folders are made as needed; files are replaced)')
      .option('--progress', 'show the progress bar even when stderr is not a terminal')
      .option('--no-progress', 'never show the progress bar')
      .description('upload a file (streaming; replaces an existing remote file)'),
  ).action(async (file: string, urlArg: string, opts: PutOptions) => {
    if (file === '-' && opts.passwordStdin) {
      throw new CliError('standard input cannot carry both the password and the file — use MESHDAV_PASSWORD or netrc with `put -`', EXIT.USAGE);
    }
    if (opts.recursive) {
      if (file === '-' || !(await isFolder(file))) throw new CliError(`${file} is not a local folder — put -r uploads a folder`, EXIT.USAGE);
      await withSession(urlArg, opts, async (session, dir) => {
        const target = dir.pathname.endsWith('/') ? child(dir, basename(resolve(file))) : dir;
        const files = await putTree(session, file, target, (f, u) => upload(session, f, u, opts));
        if (opts.json) printJson(files);
      });
      return;
    }
    const size = file === '-' ? null : await localFileSize(file);
    await withSession(urlArg, opts, async (session, dir) => {
      let url = dir;
      if (dir.pathname.endsWith('/')) {
        if (file === '-') throw new CliError(`${clean(dir)} is a folder URL — give the remote file name for standard input`, EXIT.USAGE);
        url = child(dir, basename(file));
      }
      const summary = await upload(session, file, url, opts, size);
      if (opts.json) printJson(summary);
    });
  });
}

/** Uploads one local file (or - for standard input) to `url`, streaming. */
async function upload(session: DavSession, file: string, url: URL, opts: PutOptions, known?: number | null) {
  const size = known !== undefined ? known : await localFileSize(file);
  const source: Readable = file === '-' ? process.stdin : createReadStream(file);
  const m = meter(file === '-' ? 'stdin' : basename(file), size, 0, { progress: opts.progress });
  const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
  if (size !== null) headers['content-length'] = String(size);
  let res;
  try {
    res = await session.request('PUT', url, { headers, body: Readable.from(counted(source, m), { objectMode: false }) });
  } finally {
    m.done();
    source.destroy();
  }
  res.body.resume();
  const etag = typeof res.headers.etag === 'string' ? res.headers.etag : null;
  return { url: clean(url), bytes: m.bytes, created: res.status === 201, etag };
}

async function isFolder(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** The file's size; a missing file or a folder is a one-line CliError. */
async function localFileSize(file: string): Promise<number> {
  try {
    const st = await stat(file);
    if (!st.isFile()) throw new CliError(`${file} is not a file — put -r uploads a folder`, EXIT.USAGE);
    return st.size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new CliError(`no such local file: ${file}`, EXIT.NOT_FOUND);
    throw err;
  }
}

/** The request body: the source's chunks, counted by the meter as undici pulls them. */
async function* counted(source: Readable, m: Meter): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    m.tick((chunk as Buffer).length);
    yield chunk as Buffer;
  }
}
