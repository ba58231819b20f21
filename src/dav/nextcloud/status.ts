/** `/status.php` and the version meshdav presents to Nextcloud clients. */
import type { Context } from 'koa';

export const NEXTCLOUD_VERSION = { major: 28, minor: 0, micro: 14, string: '28.0.14' } as const;

export function statusBody(): Record<string, unknown> {
  return {
    installed: true,
    maintenance: false,
    needsDbUpgrade: false,
    version: `${NEXTCLOUD_VERSION.string}.1`,
    versionstring: NEXTCLOUD_VERSION.string,
    edition: '',
    productname: 'meshdav',
    extendedSupport: false,
  };
}

export function status(ctx: Context): void {
  ctx.set('Access-Control-Allow-Origin', '*');
  ctx.body = statusBody();
}
