/**
 * `dataDir/node.json` = `{url, pid}`: how local tools (the `meshdav user` commands) reach the
 * node that holds this data directory's LevelDB lock. Written when the node starts listening,
 * removed at clean shutdown; the url is the bound loopback address, not publicUrl.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface NodeFile {
  url: string;
  pid: number;
}

export const NODE_FILE = 'node.json';

/** The local URL of a server bound to `host:port` (wildcard binds are reached on loopback). */
export function localUrl(host: string, port: number, tls: boolean): string {
  const h = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
  return `${tls ? 'https' : 'http'}://${h}:${port}`;
}

export function writeNodeFile(dataDir: string, info: NodeFile): void {
  writeFileSync(join(dataDir, NODE_FILE), JSON.stringify(info) + '\n', { mode: 0o600 });
}

/** Removes node.json if it still belongs to this process. */
export function removeNodeFile(dataDir: string, pid = process.pid): void {
  const info = readNodeFile(dataDir);
  if (info && info.pid === pid) rmSync(join(dataDir, NODE_FILE), { force: true });
}

export function readNodeFile(dataDir: string): NodeFile | undefined {
  try {
    const v = JSON.parse(readFileSync(join(dataDir, NODE_FILE), 'utf8')) as Partial<NodeFile>;
    return typeof v.url === 'string' && typeof v.pid === 'number' ? { url: v.url, pid: v.pid } : undefined;
  } catch {
    return undefined;
  }
}
