import { errorHandler, notFoundHandler, requestId } from '@flotilla/http';
import express, { type Express } from 'express';
import type { AppDeps } from './app.ts';
import { bytesOf } from './app.ts';
import { proxyHandler } from './proxy/proxy.ts';

/**
 * The mesh listener's app: `/<service>/<path>` goes to `<path>` of a version of `<service>`, picked
 * by the same weights (and `x-flotilla-version` pin) as the public routes, and counted in the same
 * metrics. Services call each other through it, so a canary gets its share of their calls too.
 * No token check and no rate limit: each service authenticates its callers itself, and the
 * listener is bound inside the services' network only (`MESH_HOST`, loopback by default).
 */
export function createMeshApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(requestId);
  const options = {
    upstreams: deps.upstreams,
    versionHeader: deps.config.VERSION_HEADER,
    bodyLimitBytes: bytesOf(deps.config.BODY_LIMIT),
    registry: deps.metrics.registry,
    logger: deps.logger,
  };
  for (const service of Object.keys(deps.upstreams.services())) {
    app.all(
      [`/${service}`, `/${service}/{*rest}`],
      proxyHandler({ prefix: `/${service}`, service, upstreamPrefix: '' }, options),
    );
  }
  app.use(notFoundHandler);
  app.use(errorHandler(deps.logger));
  return app;
}
