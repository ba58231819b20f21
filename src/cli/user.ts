/**
 * `meshdav user add|list|passwd|quota|delete`. Works with or without a node running on the data directory:
 * the CLI opens the LevelDB itself; when a running node holds its lock, it asks that node
 * instead, through the loopback admin endpoint named in dataDir/node.json (Bearer loopbackSecret,
 * read from dataDir/secrets.json by loadConfig). Passwords come only from stdin, never argv,
 * and are never printed.
 */
import type { Command } from 'commander';
import { Agent, request } from 'undici';
import type { Config } from '../config.js';
import type { Db } from '../services.js';
import { UserStore, type NewUser, type User } from '../auth/user-store.js';
import { readNodeFile } from '../auth/node-file.js';
import { AlreadyExistsError, BadRequestError, NotFoundError } from '../errors.js';
import { addCommonOptions, configFrom, type CommonOptions } from './options.js';
import { CliError, EXIT } from './errors.js';
import { openDataDb } from './data-db.js';
import { openServices } from '../services.js';
import { createLogger } from '../log.js';
import { removeUser, type RemovalReport } from '../user-removal.js';
import { MetaStore } from '../storage/meta-store.js';

/** A user's quota as the admin endpoint reports it. */
interface QuotaInfo {
  /** In force: the user's own, else the node's; null = unlimited. */
  quotaBytes: number | null;
  /** It is the user's own. */
  own: boolean;
  usedBytes: number;
}

/** What `user quota NAME SIZE` sets: bytes, null (unlimited) or the node's default. */
type QuotaSetting = number | null | 'default';

/** The operations the commands need, whether done on the DB directly or through the node. */
interface UserAdmin {
  add(user: NewUser): Promise<User>;
  list(): Promise<User[]>;
  setPassword(name: string, password: string): Promise<void>;
  remove(name: string): Promise<RemovalReport>;
  quota(name: string, set?: QuotaSetting): Promise<QuotaInfo>;
  close(): Promise<void>;
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1e3, kb: 1e3, kib: 2 ** 10, m: 1e6, mb: 1e6, mib: 2 ** 20, g: 1e9, gb: 1e9, gib: 2 ** 30, t: 1e12, tb: 1e12, tib: 2 ** 40 };

/** `10GiB`, `500 MB`, `1048576`, `none` (unlimited) or `default` (the node's). */
export function parseQuota(text: string): QuotaSetting {
  const t = text.trim().toLowerCase();
  if (t === 'none' || t === 'unlimited') return null;
  if (t === 'default') return 'default';
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/.exec(t);
  const unit = m ? UNITS[m[2]!] : undefined;
  const bytes = m && unit !== undefined ? Math.round(Number(m[1]) * unit) : NaN;
  if (!Number.isSafeInteger(bytes)) throw new CliError(`"${text}" is not a size: give bytes or a size like 500MB or 10GiB, or none, or default`, EXIT.USAGE);
  return bytes;
}

function sizeText(bytes: number): string {
  for (const [unit, n] of [['TiB', 2 ** 40], ['GiB', 2 ** 30], ['MiB', 2 ** 20], ['KiB', 2 ** 10]] as const) {
    if (bytes >= n) return `${(bytes / n).toFixed(bytes % n === 0 ? 0 : 1)} ${unit}`;
  }
  return `${bytes} bytes`;
}

export function registerUser(program: Command): void {
  const user = program.command('user').description('manage the local users of this node');

  addCommonOptions(
    user
      .command('add <name>')
      .description('create a user; the password is read from stdin')
      .option('--password-stdin', 'read the password from standard input (required)')
      .option('--email <email>', 'e-mail address')
      .option('--display-name <name>', 'display name'),
  ).action(async (name: string, opts: CommonOptions & { passwordStdin?: boolean; email?: string; displayName?: string }) => {
    const password = await passwordFromStdin(opts.passwordStdin);
    const added = await withAdmin(configFrom(opts), (a) => a.add({ name, password, email: opts.email, displayName: opts.displayName }));
    process.stdout.write(`user ${added.name} created\n`);
  });

  addCommonOptions(user.command('list').description('list users').option('--json', 'print JSON')).action(
    async (opts: CommonOptions & { json?: boolean }) => {
      const users = await withAdmin(configFrom(opts), (a) => a.list());
      if (opts.json) {
        process.stdout.write(JSON.stringify(users, null, 2) + '\n');
        return;
      }
      for (const u of users) {
        process.stdout.write([u.name, u.displayName ?? '', u.email ?? ''].join('\t').trimEnd() + '\n');
      }
    },
  );

  addCommonOptions(
    user
      .command('passwd <name>')
      .description("change a user's password; the new password is read from stdin")
      .option('--password-stdin', 'read the password from standard input (required)'),
  ).action(async (name: string, opts: CommonOptions & { passwordStdin?: boolean }) => {
    const password = await passwordFromStdin(opts.passwordStdin);
    await withAdmin(configFrom(opts), (a) => a.setPassword(name, password));
    process.stdout.write(`password of ${name} changed\n`);
  });

  addCommonOptions(
    user
      .command('quota <name> [size]')
      .description("show a user's quota and usage, or set it: a size like 500MB or 10GiB, none (unlimited), or default (the node's quotaBytes)")
      .option('--json', 'print JSON'),
  ).action(async (name: string, size: string | undefined, opts: CommonOptions & { json?: boolean }) => {
    const set = size === undefined ? undefined : parseQuota(size);
    const q = await withAdmin(configFrom(opts), (a) => a.quota(name, set));
    if (opts.json) {
      process.stdout.write(JSON.stringify(q) + '\n');
      return;
    }
    const limit = q.quotaBytes === null ? 'unlimited' : sizeText(q.quotaBytes);
    process.stdout.write(`${name}: quota ${limit} (${q.own ? 'own' : "the node's"}), ${sizeText(q.usedBytes)} used\n`);
  });

  addCommonOptions(
    user
      .command('delete <name>')
      .description("delete a user and everything of theirs: files, versions, trash, shares (the other sites are told), contacts, invites")
      .option('--yes', 'confirm: this cannot be undone'),
  ).action(async (name: string, opts: CommonOptions & { yes?: boolean }) => {
    if (!opts.yes) throw new CliError(`this deletes ${name} and all their files for good; run it again with --yes`, EXIT.USAGE);
    const r = await withAdmin(configFrom(opts), (a) => a.remove(name));
    process.stdout.write(`user ${r.user} deleted (${r.sharesRevoked} sent shares revoked, ${r.sharesDeclined} received shares declined, ${r.contacts} contacts, ${r.invites} invites)\n`);
  });
}

/** Reads the whole of stdin; one trailing newline is dropped. */
async function passwordFromStdin(flag: boolean | undefined): Promise<string> {
  if (!flag) throw new CliError('pass the password on standard input with --password-stdin', EXIT.USAGE);
  if (process.stdin.isTTY) process.stderr.write('password: ');
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const pw = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  if (pw === '') throw new CliError('empty password on standard input', EXIT.USAGE);
  return pw;
}

async function withAdmin<T>(config: Config, fn: (admin: UserAdmin) => Promise<T>): Promise<T> {
  const admin = await openAdmin(config);
  try {
    return await fn(admin);
  } catch (err) {
    throw translate(err);
  } finally {
    await admin.close();
  }
}

function translate(err: unknown): unknown {
  if (err instanceof AlreadyExistsError) return new CliError(err.message, EXIT.CONFLICT);
  if (err instanceof NotFoundError) return new CliError(err.message, EXIT.NOT_FOUND);
  if (err instanceof BadRequestError) return new CliError(err.message, EXIT.USAGE);
  return err;
}

async function openAdmin(config: Config): Promise<UserAdmin> {
  const db = await openDataDb(config);
  return db ? directAdmin(db, config) : remoteAdmin(config);
}

function directAdmin(db: Db, config: Config): UserAdmin {
  const store = new UserStore(db);
  return {
    add: (u) => store.add(u),
    list: () => store.list(),
    setPassword: (n, p) => store.setPassword(n, p),
    // Removal needs the whole node (storage, shares, notifications to other sites), without serving.
    async remove(name) {
      await db.close();
      const services = await openServices(config, createLogger({ level: 'warn', destination: process.stderr }));
      try {
        return await removeUser(services, name);
      } finally {
        await services.close();
      }
    },
    async quota(name, set) {
      if (!(await store.get(name))) throw new NotFoundError(`no user "${name}"`);
      const meta = new MetaStore(db);
      if (set === 'default') await meta.quotas.del(name);
      else if (set !== undefined) await meta.quotas.put(name, { bytes: set });
      const own = await meta.quotas.get(name);
      return { quotaBytes: own !== undefined ? own.bytes : config.quotaBytes, own: own !== undefined, usedBytes: (await meta.get(name, '/'))?.size ?? 0 };
    },
    close: async () => {
      if (db.status === 'open') await db.close();
    },
  };
}

/** Talks to the running node's /admin endpoint. */
function remoteAdmin(config: Config): UserAdmin {
  const info = readNodeFile(config.dataDir);
  if (!info) {
    throw new CliError(`the data directory ${config.dataDir} is in use by another process and has no node.json to reach it`, EXIT.UNREACHABLE);
  }
  // Loopback only; a TLS node's certificate is usually issued for its public name, not 127.0.0.1.
  const dispatcher = new Agent({ connect: { rejectUnauthorized: false } });
  const call = async (method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<unknown> => {
    let res;
    try {
      res = await request(info.url + path, {
        method,
        dispatcher,
        headers: { authorization: `Bearer ${config.loopbackSecret}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new CliError(`cannot reach the running node at ${info.url}: ${(err as Error).message}`, EXIT.UNREACHABLE);
    }
    const text = await res.body.text();
    const json = text ? (JSON.parse(text) as unknown) : undefined;
    if (res.statusCode >= 400) {
      const msg = (json as { error?: string } | undefined)?.error ?? `HTTP ${res.statusCode}`;
      const code = res.statusCode === 409 ? EXIT.CONFLICT : res.statusCode === 404 ? EXIT.NOT_FOUND : res.statusCode === 400 ? EXIT.USAGE
        : res.statusCode === 401 || res.statusCode === 403 ? EXIT.AUTH : EXIT.FAILURE;
      throw new CliError(msg, code);
    }
    return json;
  };
  return {
    add: async (u) => (await call('POST', '/admin/users', u)) as User,
    list: async () => (await call('GET', '/admin/users')) as User[],
    setPassword: async (n, p) => {
      await call('POST', `/admin/users/${encodeURIComponent(n)}/password`, { password: p });
    },
    remove: async (n) => (await call('DELETE', `/admin/users/${encodeURIComponent(n)}`)) as RemovalReport,
    quota: async (n, set) => {
      const path = `/admin/users/${encodeURIComponent(n)}/quota`;
      return (await (set === undefined ? call('GET', path) : call('PUT', path, { quotaBytes: set }))) as QuotaInfo;
    },
    close: () => dispatcher.close(),
  };
}
