/**
 * A small HTTP client for the CLI commands that talk to a running node's JSON APIs as a user
 * (`invite`, `contacts`, `share`): `--url` (else MESHDAV_URL, else http://127.0.0.1:8080),
 * `--user` (else MESHDAV_USER), the password from `--password-stdin` or MESHDAV_PASSWORD.
 * Every failure becomes one actionable CliError line with a documented exit code.
 */
import type { Command } from 'commander';
import { Agent, request } from 'undici';
import { CliError, EXIT } from './errors.js';
import { readStdinLine } from './client/credentials.js';

export interface ApiOptions {
  url?: string;
  user?: string;
  passwordStdin?: boolean;
  json?: boolean;
}

export function addApiOptions(cmd: Command): Command {
  return cmd
    .option('--url <url>', 'the node to talk to (default MESHDAV_URL or http://127.0.0.1:8080)')
    .option('-u, --user <name>', 'your user name on that node (default MESHDAV_USER)')
    .option('--password-stdin', 'read the password from the first line of standard input (else MESHDAV_PASSWORD)')
    .option('--json', 'machine-readable JSON output on stdout');
}

export class ApiClient {
  private readonly agent = new Agent({ connect: { timeout: 10_000 }, headersTimeout: 60_000, bodyTimeout: 60_000 });

  private constructor(
    readonly base: string,
    readonly user: string,
    private readonly authorization: string,
  ) {}

  static async open(opts: ApiOptions, env: NodeJS.ProcessEnv = process.env): Promise<ApiClient> {
    const raw = (opts.url ?? env.MESHDAV_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
    let url: URL;
    try {
      url = new URL(/^https?:\/\//i.test(raw) ? raw : `http://${raw}`);
    } catch {
      throw new CliError(`"${raw}" is not a URL — pass the node's address, e.g. --url http://127.0.0.1:8080`, EXIT.USAGE);
    }
    const user = opts.user ?? env.MESHDAV_USER;
    if (!user) throw new CliError('no user given — pass --user NAME (or set MESHDAV_USER)', EXIT.USAGE);
    const password = opts.passwordStdin ? await readStdinLine() : env.MESHDAV_PASSWORD;
    if (password === undefined) {
      throw new CliError('no password given — pipe it with --password-stdin or set MESHDAV_PASSWORD', EXIT.USAGE);
    }
    const base = url.origin + url.pathname.replace(/\/+$/, '');
    return new ApiClient(base, user, 'Basic ' + Buffer.from(`${user}:${password}`, 'utf8').toString('base64'));
  }

  /** Sends a JSON request; returns the parsed JSON body (undefined when empty). Throws CliError. */
  async call<T = unknown>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
    let res;
    try {
      res = await request(this.base + path, {
        method,
        dispatcher: this.agent,
        headers: {
          authorization: this.authorization,
          accept: 'application/json',
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw unreachable(this.base, err);
    }
    const text = await res.body.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (res.statusCode >= 400) throw this.failure(res.statusCode, json, text);
    return json as T;
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  private failure(status: number, json: unknown, text: string): CliError {
    const msg = (json as { error?: unknown; message?: unknown } | undefined)?.error ?? (json as { message?: unknown } | undefined)?.message;
    const reason = typeof msg === 'string' ? msg : text.slice(0, 200) || `HTTP ${status}`;
    if (status === 401) return new CliError(`authentication failed for user ${this.user} at ${this.base} — check --user and the password`, EXIT.AUTH);
    if (status === 403) return new CliError(`refused: ${reason}`, EXIT.FORBIDDEN);
    if (status === 404) return new CliError(`not found: ${reason}`, EXIT.NOT_FOUND);
    if (status === 409) return new CliError(`conflict: ${reason}`, EXIT.CONFLICT);
    if (status === 502 || status === 504) return new CliError(`the other site could not be reached: ${reason}`, EXIT.UNREACHABLE);
    return new CliError(`${this.base} answered ${status}: ${reason}`, status === 400 ? EXIT.USAGE : EXIT.FAILURE);
  }
}

function unreachable(base: string, err: unknown): CliError {
  const e = err as { code?: string; cause?: { code?: string } };
  const code = e?.code ?? e?.cause?.code ?? '';
  const why =
    code === 'ECONNREFUSED' ? 'connection refused'
      : code === 'ENOTFOUND' ? 'host not found'
        : code === 'UND_ERR_CONNECT_TIMEOUT' ? 'connection timed out'
          : (err as Error)?.message ?? 'connection failed';
  return new CliError(`cannot reach ${base}: ${why} — is \`meshdav serve\` running?`, EXIT.UNREACHABLE);
}

/** Runs `fn` with an open client and always releases it. */
export async function withApi<T>(opts: ApiOptions, fn: (api: ApiClient) => Promise<T>): Promise<T> {
  const api = await ApiClient.open(opts);
  try {
    return await fn(api);
  } finally {
    await api.close();
  }
}

export function out(line: string): void {
  process.stdout.write(line + '\n');
}

export function outJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}
