/**
 * `meshdav get URL [FILE]`: download a file, streaming, with a progress bar (`-r`: a whole folder,
 * file by file, each as described here).
 * `--continue` resumes a partial FILE with `Range: bytes=N-` and `If-Range: <ETag>`, the ETag
 * having been saved beside FILE (FILE.meshdav-resume) when the download began; if the server's
 * file changed meanwhile (a 200 instead of 206, or a 206 whose ETag differs) the download starts
 * over, so a resumed file is never a splice of two versions.
 */
import { createWriteStream } from 'node:fs';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { CliError, EXIT } from '../errors.js';
import { addClientOptions, assertFileBody, printJson, withSession, type ClientOptions } from './common.js';
import { baseName, clean, discard, type DavResponse, type DavSession } from './http.js';
import { meter } from './progress.js';
import { getTree } from './tree.js';

interface GetOptions extends ClientOptions {
  recursive?: boolean;
  continue?: boolean;
  force?: boolean;
  progress?: boolean;
}

interface ResumeState {
  url: string;
  etag: string;
}

export function registerGet(program: Command): void {
  addClientOptions(
    program
      .command('get')
      .argument('<url>', 'WebDAV URL of a file (of a folder with -r)')
      .argument('[file]', 'local file to write (default: the remote name; - for standard output); with -r, the local folder')
      .option('-r, --recursive', 'download a folder and everything in it (each file as without -r: --continue and --force apply to each)')
      .option('-c, --continue', 'resume a partial download of FILE (verified with the ETag)')
      .option('-f, --force', 'replace FILE if it exists')
      .option('--progress', 'show the progress bar even when stderr is not a terminal')
      .option('--no-progress', 'never show the progress bar')
      .description('download a file (streaming; resumable with --continue)'),
  ).action(async (urlArg: string, fileArg: string | undefined, opts: GetOptions) => {
    await withSession(urlArg, opts, async (session, url) => {
      if (opts.recursive) {
        const dir = fileArg ?? baseName(url);
        if (!dir || dir === '-') throw new CliError('give the local folder to download into as the second argument', EXIT.USAGE);
        const files = await getTree(session, url, dir, (u, f) => download(session, u, f, opts));
        if (opts.json) printJson(files);
        return;
      }
      const file = fileArg ?? baseName(url);
      if (!file) throw new CliError(`${url.href} names no file — give the local file name as the second argument`, EXIT.USAGE);
      if (file === '-') {
        const res = await session.request('GET', url);
        assertFileBody(res, url);
        await streamTo(res, url, process.stdout, 0, opts);
        return;
      }
      const summary = await download(session, url, file, opts);
      if (opts.json) printJson(summary);
    });
  });
}

async function localSize(file: string): Promise<number | undefined> {
  try {
    const st = await stat(file);
    if (!st.isFile()) throw new CliError(`${file} exists and is not a file — choose another local name`, EXIT.CONFLICT);
    return st.size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function readResume(sidecar: string, url: URL): Promise<string | undefined> {
  try {
    const s = JSON.parse(await readFile(sidecar, 'utf8')) as ResumeState;
    return s.url === clean(url) && typeof s.etag === 'string' ? s.etag : undefined;
  } catch {
    return undefined;
  }
}

async function download(session: DavSession, url: URL, file: string, opts: GetOptions) {
  const sidecar = `${file}.meshdav-resume`;
  const have = await localSize(file);
  if (have !== undefined && !opts.continue && !opts.force) {
    throw new CliError(`${file} already exists — use --continue to resume it or --force to replace it`, EXIT.CONFLICT);
  }
  let offset = opts.continue && have ? have : 0;
  const savedEtag = offset ? await readResume(sidecar, url) : undefined;
  const headers: Record<string, string> = {};
  if (offset) {
    headers.range = `bytes=${offset}-`;
    if (savedEtag) headers['if-range'] = savedEtag;
  }
  let res = await session.request('GET', url, { headers, ok: (s) => (s >= 200 && s < 300) || (offset > 0 && s === 416) });
  if (res.status === 416) {
    res.body.resume();
    const total = Number(/\/(\d+)$/.exec(String(res.headers['content-range'] ?? ''))?.[1] ?? NaN);
    if (total === offset) {
      await rm(sidecar, { force: true });
      return { url: clean(url), file, bytes: offset, resumed: false, complete: true };
    }
    throw new CliError(`${file} is larger than ${clean(url)} — it is not a partial copy of it; use --force to download again`, EXIT.CONFLICT);
  }
  assertFileBody(res, url);
  const etag = strongEtag(res);
  if (offset && res.status === 206 && (!startsAt(res, offset) || (savedEtag && etag && etag !== savedEtag))) {
    // The server ignored If-Range (or answered another range): never splice two versions.
    discard(res.body);
    res = await session.request('GET', url);
    offset = 0;
  } else if (offset && res.status === 206 && !savedEtag) {
    process.stderr.write(`meshdav: no saved ETag for ${file}; resumed at byte ${offset} without a change check\n`);
  } else if (offset && res.status !== 206) {
    process.stderr.write(`meshdav: ${clean(url)} changed on the server (or cannot resume); downloading it again from the start\n`);
    offset = 0;
  }
  const newEtag = strongEtag(res);
  if (newEtag) await writeFile(sidecar, JSON.stringify({ url: clean(url), etag: newEtag } satisfies ResumeState) + '\n');
  else await rm(sidecar, { force: true });
  const out = createWriteStream(file, { flags: offset ? 'a' : 'w' });
  const bytes = await streamTo(res, url, out, offset, opts, file);
  await rm(sidecar, { force: true });
  return { url: clean(url), file, bytes, resumed: offset > 0, etag: newEtag ?? null };
}

/** Streams the body to `out` through the progress meter; returns the final byte count. */
async function streamTo(res: DavResponse, url: URL, out: NodeJS.WritableStream, offset: number, opts: GetOptions, file?: string): Promise<number> {
  const length = Number(res.headers['content-length'] ?? NaN);
  const total = Number.isFinite(length) ? offset + length : null;
  const m = meter(file ?? baseName(url), total, offset, { progress: opts.progress });
  try {
    // Standard output is never ended: it may be a socket shared with the shell's other commands.
    await pipeline(res.body, m.stream, out, { end: out !== process.stdout });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EPIPE') return m.bytes;
    const how = file ? ` — run the same command with --continue to resume` : '';
    throw new CliError(`GET ${clean(url)}: the transfer broke off after ${m.bytes} bytes (${(err as Error).message})${how}`, EXIT.FAILURE);
  } finally {
    m.done();
  }
  if (total !== null && m.bytes !== total) {
    throw new CliError(`GET ${clean(url)}: got ${m.bytes} of ${total} bytes${file ? ' — run the same command with --continue to resume' : ''}`, EXIT.FAILURE);
  }
  return m.bytes;
}

function strongEtag(res: DavResponse): string | undefined {
  const e = res.headers.etag;
  return typeof e === 'string' && e && !e.startsWith('W/') ? e : undefined;
}

function startsAt(res: DavResponse, offset: number): boolean {
  const m = /^bytes (\d+)-/.exec(String(res.headers['content-range'] ?? ''));
  return m !== null && Number(m[1]) === offset;
}
