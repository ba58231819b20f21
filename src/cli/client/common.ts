/** Options every client command shares, and running a command inside one DAV session. */
import type { Command } from 'commander';
import { CliError, EXIT } from '../errors.js';
import { clean, DavSession, discard, parseUrl, type DavResponse, type SessionOptions } from './http.js';

export interface ClientOptions extends SessionOptions {
  json?: boolean;
}

export function addClientOptions(cmd: Command): Command {
  return cmd
    .option('-u, --user <name>', 'user name (else MESHDAV_USER, the URL, or netrc)')
    .option('--password-stdin', 'read the password from the first line of standard input (else MESHDAV_PASSWORD or netrc)')
    .option('--netrc <file>', 'netrc file to take the login from (default ~/.netrc)')
    .option('-k, --insecure', 'accept any TLS certificate (self-signed test servers only)')
    .option('--json', 'machine-readable JSON output on stdout');
}

/** Opens a session for `urlArg`, runs `fn`, and always releases the connection pool. */
export async function withSession<T>(urlArg: string, opts: ClientOptions, fn: (session: DavSession, url: URL) => Promise<T>): Promise<T> {
  const url = parseUrl(urlArg);
  const session = await DavSession.open(url, opts);
  try {
    return await fn(session, url);
  } finally {
    await session.close();
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** Refuses a GET answer that is a folder (Nextcloud and meshdav answer 200 `httpd/unix-directory`). */
export function assertFileBody(res: DavResponse, url: URL): void {
  if (String(res.headers['content-type'] ?? '').startsWith('httpd/unix-directory')) {
    discard(res.body);
    throw new CliError(`${clean(url)} is a folder — list it with \`meshdav ls\` (get and cat fetch files)`, EXIT.USAGE);
  }
}
