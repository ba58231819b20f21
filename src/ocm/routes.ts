/**
 * Every HTTP entry point of the OCM area, for app.ts: the OCM API and discovery, the ScienceMesh
 * GUI/CLI endpoints and `/ocm/send`, the OCS sharees API, the share WebDAV endpoint, and revad's
 * OCM share store.
 */
import type { Middleware } from 'koa';
import { ocmApiRouter } from './api-router.js';
import { revadOcmStore } from './revad-store.js';
import type { OcmRouterDeps } from './router-deps.js';
import { sciencemeshRouter } from './sciencemesh-router.js';
import { shareEndpoint } from './share-endpoint.js';
import { shareesRouter } from './sharees.js';

export type { OcmRouterDeps } from './router-deps.js';

/** The middleware to `app.use` in this order. */
export function ocmRoutes(deps: OcmRouterDeps): Middleware[] {
  const api = ocmApiRouter(deps);
  const sm = sciencemeshRouter(deps);
  const sharees = shareesRouter(deps);
  return [
    shareEndpoint(deps),
    revadOcmStore(deps),
    api.routes(),
    api.allowedMethods(),
    sm.routes(),
    sm.allowedMethods(),
    sharees.routes(),
  ] as Middleware[];
}
