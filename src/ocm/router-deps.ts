/** What the OCM routers need, wired by app.ts from the node's services. */
import type { Context } from 'koa';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Fs } from '../fs/types.js';
import type { OcmService } from './service.js';

export interface ShareDavTarget {
  fs: Fs;
  base: string;
  lockScope: string;
  user?: { name: string; displayName?: string };
}

export interface OcmRouterDeps {
  config: Config;
  /** Where refused OCM requests are logged with their reason. */
  log?: Logger;
  ocm: OcmService;
  /** Basic `user:password` or `user:loopbackSecret` (services.auth.basic); the local user name. */
  authenticate(ctx: Context): Promise<string>;
  /** services.dav.serve */
  serveDav(ctx: Context, target: ShareDavTarget): Promise<void>;
}
