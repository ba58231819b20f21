/**
 * Configuration: decoded, defaulted and validated once at start-up (reva's cfg.Decode).
 * Sources, weakest first: defaults < JSON file (--config) < MESHDAV_* environment < CLI flags.
 * Object-valued keys take JSON in the environment (MESHDAV_CACHE='{"mode":"off"}'); lists take
 * JSON or a comma-separated string (MESHDAV_TRUSTED_PROVIDERS=a.org,b.org:8443).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync, chmodSync } from 'node:fs';
import { resolve, join } from 'node:path';
import { z } from 'zod';

const MiB = 1024 * 1024;

const cacheSchema = z
  .object({
    /** off: every read goes to the sender; metadata: stat/list cached; full: content chunks cached too. */
    mode: z.enum(['off', 'metadata', 'full']).default('full'),
    /** How long a cached listing or stat is fresh (ms); stale entries are served while refreshed. */
    metadataTtlMs: z.number().int().min(0).default(30_000),
    /** Content cache bound in memory (bytes). */
    memoryBytes: z.number().int().min(0).default(64 * MiB),
    /** Content cache bound on disk under dataDir/cache (bytes); 0 disables the disk tier. */
    diskBytes: z.number().int().min(0).default(1024 * MiB),
    /** Size of one cached content chunk (bytes). */
    chunkBytes: z.number().int().min(64 * 1024).max(64 * MiB).default(4 * MiB),
  })
  .strict();

const remoteSchema = z
  .object({
    /** Connect timeout towards other sites (ms). */
    connectTimeoutMs: z.number().int().min(100).default(5_000),
    /** Longest silence on an open connection to another site before the request fails (ms). */
    idleTimeoutMs: z.number().int().min(100).default(30_000),
    /**
     * A mount read whose client stops reading closes its connection to the sender after this
     * long (ms), and reopens it where it stopped once the client reads on (resuming-body.ts);
     * under the 60 s after which nginx (send_timeout) and Apache (Timeout) cut a stalled reader.
     */
    pausedCloseMs: z.number().int().min(100).default(20_000),
  })
  .strict();

const limitsSchema = z
  .object({
    /** Largest XML request body (PROPFIND, PROPPATCH, LOCK), bytes. */
    xmlBodyBytes: z.number().int().min(1024).default(1 * MiB),
    /** Largest JSON or form request body on the API endpoints, bytes. */
    jsonBodyBytes: z.number().int().min(1024).default(1 * MiB),
    /**
     * A client that moves no byte of a transfer for this long (ms) loses its connection
     * (stalled-clients.ts). Long enough for another site's mount, which stops reading while its
     * own client catches up on up to 4 MiB (10 min: clients down to ~7 KiB/s).
     */
    clientStallMs: z.number().int().min(100).default(600_000),
  })
  .strict();

const throttleSchema = z
  .object({
    /** Failed logins allowed per client address and user name within the window. */
    maxFailures: z.number().int().min(1).default(10),
    windowSeconds: z.number().int().min(1).default(300),
  })
  .strict();

const tlsSchema = z
  .object({
    cert: z.string().min(1, 'path to the PEM certificate'),
    key: z.string().min(1, 'path to the PEM private key'),
  })
  .strict();

export const configSchema = z
  .object({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8080),
    /** How other sites reach this node; the provider domain is its host[:port]. */
    publicUrl: z.string().url().optional(),
    dataDir: z.string().min(1).default('./data'),
    revaSecret: z.string().min(16, 'must be at least 16 characters').optional(),
    loopbackSecret: z.string().min(16, 'must be at least 16 characters').optional(),
    /** Provider domains (host[:port]) or base URLs this node federates with. */
    trustedProviders: z.array(z.string().min(1)).default([]),
    /** Provider domains whose shares are accepted without a prior invite. */
    autoAcceptProviders: z.array(z.string().min(1)).default([]),
    /**
     * Require the OCM code flow for received shares (discovery criterion `must-exchange-token`):
     * their secrets are only exchanged for short-lived access tokens, never sent as credentials.
     */
    requireTokenExchange: z.boolean().default(false),
    sharesFolder: z
      .string()
      .regex(/^\/[^/]+$/, 'must be one folder below the home root, like "/Shares"')
      .default('/Shares'),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** Honour X-Forwarded-Proto/-Host/-For from a reverse proxy. Only enable behind one. */
    trustProxy: z.boolean().default(false),
    tls: tlsSchema.optional(),
    /** Per-user quota in bytes; null = unlimited. */
    quotaBytes: z.number().int().min(0).nullable().default(null),
    /** Old versions kept per file. */
    maxVersions: z.number().int().min(0).default(10),
    /** Days a deleted item stays in its owner's trash before it goes for good; 0 = for ever. */
    trashRetentionDays: z.number().min(0).default(30),
    /**
     * Flush an uploaded file, its folder and the metadata commit to disk before the upload is
     * answered, so an acknowledged upload survives a power cut (costs upload speed).
     */
    fsync: z.boolean().default(false),
    /** Lifetime of an invite token, hours. */
    inviteExpiryHours: z.number().min(0.001).default(24 * 7),
    cache: cacheSchema.default(cacheSchema.parse({})),
    remote: remoteSchema.default(remoteSchema.parse({})),
    limits: limitsSchema.default(limitsSchema.parse({})),
    loginThrottle: throttleSchema.default(throttleSchema.parse({})),
  })
  .strict();

export type ConfigInput = z.input<typeof configSchema>;
type Parsed = z.output<typeof configSchema>;

/** The validated configuration with secrets and publicUrl resolved. */
export interface Config extends Omit<Parsed, 'revaSecret' | 'loopbackSecret' | 'publicUrl'> {
  revaSecret: string;
  loopbackSecret: string;
  /** Absent until the port is known (port 0); set by the node once listening. */
  publicUrl: string;
  /** Absolute dataDir. */
  dataDir: string;
  /** Whether publicUrl was configured; if not, it follows the bound port. */
  publicUrlExplicit: boolean;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const KEYS = Object.keys(configSchema.shape) as (keyof Parsed)[];

export function envName(key: string): string {
  return 'MESHDAV_' + key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

function fromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of KEYS) {
    const raw = env[envName(key)];
    if (raw === undefined || raw === '') continue;
    const shape = configSchema.shape[key];
    const inner = unwrap(shape);
    if (inner instanceof z.ZodNumber) {
      const n = Number(raw);
      out[key] = Number.isFinite(n) ? n : raw;
    } else if (inner instanceof z.ZodBoolean) {
      out[key] = /^(1|true|yes|on)$/i.test(raw) ? true : /^(0|false|no|off)$/i.test(raw) ? false : raw;
    } else if (inner instanceof z.ZodArray) {
      out[key] = raw.trim().startsWith('[') ? parseJson(raw, envName(key)) : raw.split(',').map((s) => s.trim()).filter(Boolean);
    } else if (inner instanceof z.ZodObject) {
      out[key] = parseJson(raw, envName(key));
    } else if (key === 'quotaBytes') {
      out[key] = raw === 'null' ? null : Number(raw);
    } else {
      out[key] = raw;
    }
  }
  return out;
}

function unwrap(t: z.ZodType): z.ZodType {
  let cur: z.ZodType = t;
  for (let i = 0; i < 5; i++) {
    const def = (cur as unknown as { def?: { innerType?: z.ZodType } }).def;
    if (def?.innerType) cur = def.innerType;
    else break;
  }
  return cur;
}

function parseJson(raw: string, where: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    throw new ConfigError(`${where}: not valid JSON`);
  }
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const value = parseJson(text, `config file ${file}`);
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(`config file ${file}: must contain a JSON object`);
  }
  return value as Record<string, unknown>;
}

export interface LoadOptions {
  /** --config FILE */
  file?: string;
  /** Values from command-line flags; they win over file and environment. */
  overrides?: ConfigInput;
  env?: NodeJS.ProcessEnv;
  /** Generate and store missing secrets in dataDir (true for serve; CLI reads them). */
  persistSecrets?: boolean;
}

/** Decodes and validates; throws ConfigError whose message names the key and the problem. */
export function loadConfig(options: LoadOptions = {}): Config {
  const merged = {
    ...(options.file ? readConfigFile(options.file) : {}),
    ...fromEnv(options.env ?? process.env),
    ...stripUndefined(options.overrides ?? {}),
  };
  const result = configSchema.safeParse(merged);
  if (!result.success) {
    const lines = result.error.issues.map((i) => {
      const key = i.path.join('.') || '(config)';
      const msg = i.code === 'unrecognized_keys' ? `unknown key(s) ${(i as { keys: string[] }).keys.join(', ')}` : i.message;
      return `${key}: ${msg}`;
    });
    throw new ConfigError(`invalid configuration — ${lines.join('; ')}`);
  }
  const parsed = result.data;
  const dataDir = resolve(parsed.dataDir);
  for (const p of parsed.trustedProviders) {
    if (/\s/.test(p)) throw new ConfigError(`trustedProviders: "${p}" contains white space`);
  }
  const secrets = resolveSecrets(dataDir, parsed, options.persistSecrets ?? false);
  const publicUrl = parsed.publicUrl
    ? parsed.publicUrl.replace(/\/+$/, '')
    : `${parsed.tls ? 'https' : 'http'}://${formatHost(parsed.host)}:${parsed.port}`;
  return { ...parsed, ...secrets, dataDir, publicUrl, publicUrlExplicit: Boolean(parsed.publicUrl) };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function formatHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

const SECRETS_FILE = 'secrets.json';

/** Secrets not given in the configuration are generated once and kept in dataDir/secrets.json (0600). */
function resolveSecrets(
  dataDir: string,
  parsed: Parsed,
  persist: boolean,
): { revaSecret: string; loopbackSecret: string } {
  const file = join(dataDir, SECRETS_FILE);
  let stored: Partial<Record<'revaSecret' | 'loopbackSecret', string>> = {};
  if (existsSync(file)) {
    stored = parseJson(readFileSync(file, 'utf8'), file) as typeof stored;
  }
  const revaSecret = parsed.revaSecret ?? stored.revaSecret ?? newSecret();
  const loopbackSecret = parsed.loopbackSecret ?? stored.loopbackSecret ?? newSecret();
  const changed = stored.revaSecret !== revaSecret || stored.loopbackSecret !== loopbackSecret;
  if (persist && changed && (!parsed.revaSecret || !parsed.loopbackSecret)) {
    mkdirSync(dataDir, { recursive: true });
    const toStore = {
      revaSecret: parsed.revaSecret ? stored.revaSecret : revaSecret,
      loopbackSecret: parsed.loopbackSecret ? stored.loopbackSecret : loopbackSecret,
    };
    writeFileSync(file, JSON.stringify(toStore, null, 2) + '\n', { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  return { revaSecret, loopbackSecret };
}

/** 256 random bits, URL-safe. */
export function newSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** The provider domain (host[:port]) of a public URL, as OCM addresses use it. */
export function providerDomain(publicUrl: string): string {
  return new URL(publicUrl).host;
}
