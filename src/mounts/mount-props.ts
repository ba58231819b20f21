/**
 * Dead (client-set) properties of paths below mount points, kept on the receiving node in the
 * `mount-props` sublevel (key `{mountId}!{path}`): a remote share need not store them, and
 * litmus-style clients expect PROPPATCH to work wherever they may write.
 */
import type { Db } from '../services.js';

export class MountProps {
  private readonly sub;

  constructor(db: Db) {
    this.sub = db.sublevel<string, Record<string, string>>('mount-props', { valueEncoding: 'json' });
  }

  async get(mountId: string, path: string): Promise<Record<string, string>> {
    return (await this.sub.get(`${mountId}!${path}`)) ?? {};
  }

  /** Applies all sets and removals in one put. */
  async patch(mountId: string, path: string, patch: { set?: Record<string, string>; remove?: string[] }): Promise<void> {
    const current = await this.get(mountId, path);
    for (const name of patch.remove ?? []) delete current[name];
    Object.assign(current, patch.set ?? {});
    if (Object.keys(current).length) await this.sub.put(`${mountId}!${path}`, current);
    else await this.sub.del(`${mountId}!${path}`);
  }

  /** Copies the properties of `from` and everything below it to `to` (replacing what was there). */
  async copyTree(fromMount: string, from: string, toMount: string, to: string): Promise<void> {
    await this.forget(toMount, to);
    const prefix = `${fromMount}!${from === '/' ? '' : from}`;
    const ops: Array<{ type: 'put'; key: string; value: Record<string, string> }> = [];
    for await (const [key, value] of this.sub.iterator({ gte: prefix, lt: prefix + '\uffff' })) {
      const rest = key.slice(prefix.length);
      if (rest !== '' && !rest.startsWith('/')) continue;
      const target = to === '/' ? rest || '/' : to + rest;
      ops.push({ type: 'put', key: `${toMount}!${target}`, value });
    }
    if (ops.length) await this.sub.batch(ops);
  }

  /** Forgets the properties of `path` and everything below it. */
  async forget(mountId: string, path: string): Promise<void> {
    const prefix = `${mountId}!${path === '/' ? '' : path}`;
    const keys: string[] = [];
    for await (const key of this.sub.keys({ gte: prefix, lt: prefix + '\uffff' })) {
      const rest = key.slice(prefix.length);
      if (rest === '' || rest.startsWith('/')) keys.push(key);
    }
    if (keys.length) await this.sub.batch(keys.map((key) => ({ type: 'del' as const, key })));
  }
}
