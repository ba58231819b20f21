/**
 * Where the client's login comes from, strongest first:
 *   1. flags: --user NAME (and --password-stdin: the first line of standard input),
 *   2. user:password in the URL itself,
 *   3. the environment: MESHDAV_USER, MESHDAV_PASSWORD,
 *   4. a netrc file: --netrc FILE, else ~/.netrc (machine = the URL's host name).
 * A source that gives a user without a password is completed by the later sources for that user.
 */
import { CliError, EXIT } from '../errors.js';
import { lookupNetrc, readNetrc } from './netrc.js';

export interface Credentials {
  user: string;
  password: string;
}

export interface CredentialOptions {
  user?: string;
  passwordStdin?: boolean;
  netrc?: string;
}

/** Reads the first line of standard input (without its line end). */
export async function readStdinLine(stdin: NodeJS.ReadableStream = process.stdin): Promise<string> {
  let text = '';
  for await (const chunk of stdin) {
    text += String(chunk);
    const nl = text.indexOf('\n');
    if (nl >= 0) return text.slice(0, nl).replace(/\r$/, '');
    if (text.length > 64 * 1024) break;
  }
  return text.replace(/\r?\n$/, '');
}

export async function resolveCredentials(url: URL, opts: CredentialOptions, env: NodeJS.ProcessEnv = process.env): Promise<Credentials | undefined> {
  let user = opts.user;
  let password: string | undefined;
  if (opts.passwordStdin) {
    if (!user && !env.MESHDAV_USER && !url.username) {
      throw new CliError('--password-stdin needs a user name: pass --user NAME (or set MESHDAV_USER)', EXIT.USAGE);
    }
    password = await readStdinLine();
  }
  if (url.username) {
    user ??= decodeURIComponent(url.username);
    if (user === decodeURIComponent(url.username) && url.password) password ??= decodeURIComponent(url.password);
  }
  if (env.MESHDAV_USER || env.MESHDAV_PASSWORD) {
    user ??= env.MESHDAV_USER;
    if (user === (env.MESHDAV_USER ?? user) && env.MESHDAV_PASSWORD !== undefined) password ??= env.MESHDAV_PASSWORD;
  }
  if (password === undefined) {
    let entries;
    try {
      entries = readNetrc(opts.netrc);
    } catch (err) {
      throw new CliError(`cannot read netrc file ${opts.netrc}: ${(err as NodeJS.ErrnoException).code ?? String(err)} — check the --netrc path`, EXIT.USAGE);
    }
    const entry = lookupNetrc(entries, url.hostname, user);
    if (entry?.password !== undefined) {
      user ??= entry.login;
      password = entry.password;
    }
  }
  if (user === undefined) return undefined;
  return { user, password: password ?? '' };
}

export function basicAuth(c: Credentials): string {
  return 'Basic ' + Buffer.from(`${c.user}:${c.password}`, 'utf8').toString('base64');
}
