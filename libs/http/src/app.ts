import express, { type Express } from 'express';
import type { Logger } from 'pino';
import { requestLogger } from '@flotilla/logging';
import { commonErrors } from './errors.ts';
import { methodNotAllowed, openApiRoutes, type OpenApiDocument } from './openapi.ts';
import { errorHandler, notFoundHandler } from './problem.ts';
import { requestId } from './request-id.ts';
import { securityHeaders } from './security-headers.ts';
import { series } from './series.ts';
import { systemRoutes, type SystemRoutes } from './system-routes.ts';

export interface ServiceAppOptions {
  logger: Logger;
  /** Largest accepted JSON body, e.g. `100kb`. */
  bodyLimit: string;
  /** Counts requests; runs before everything else so even rejected requests are counted. */
  metricsMiddleware?: express.RequestHandler;
  /**
   * Routes answered before the service's own and before the fault flags and body parsing: health,
   * metrics, JWKS. Each names its exact paths; other requests never enter their routers.
   */
  systemRoutes?: SystemRoutes[];
  /** Adds the service's routes. */
  routes: (app: Express) => void;
  /** Parse JSON bodies (default). A proxy that streams bodies through turns it off. */
  jsonBody?: boolean;
  /**
   * Runs after the system routers and before the service's routes, so probes and metrics are
   * never affected: the fault injection of `@flotilla/faults`.
   */
  faultMiddleware?: express.RequestHandler;
  /**
   * The service's OpenAPI document: served at `/openapi.json`, and a method it does not list on a
   * path it does is answered 405 with `Allow`.
   */
  openApi?: OpenApiDocument;
}

/**
 * An Express app with the kit's middleware in order: metrics, request id, security headers,
 * request logging, a 405 for methods the service's OpenAPI document does not list, JSON body
 * parsing with a size limit; then the service's routes; then a 404 and the problem+json error
 * handler.
 */
export function createServiceApp(options: ServiceAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  const system = systemRoutes([
    ...(options.systemRoutes ?? []),
    ...(options.openApi
      ? [{ paths: ['/openapi.json'], router: openApiRoutes(options.openApi) }]
      : []),
  ]);
  const handlers: express.RequestHandler[] = [
    ...(options.metricsMiddleware ? [options.metricsMiddleware] : []),
    requestId,
    securityHeaders(),
    requestLogger(options.logger),
    ...(system ? [system] : []),
    ...(options.faultMiddleware ? [options.faultMiddleware] : []),
    ...(options.openApi ? [methodNotAllowed(options.openApi)] : []),
  ];
  if (options.jsonBody !== false) {
    handlers.push(express.json({ limit: options.bodyLimit, strict: true }), (req, _res, next) => {
      // A body in any other media type would silently become `undefined`; say so instead.
      const hasBody =
        req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0';
      if ((hasBody || req.headers['transfer-encoding']) && !req.is('application/json')) {
        next(commonErrors.create('UNSUPPORTED_MEDIA_TYPE'));
        return;
      }
      next();
    });
  }
  // Everything before the routes is one Express layer: each layer costs path matching and
  // bookkeeping, more than most of these middlewares themselves.
  app.use(series(handlers));
  options.routes(app);
  app.use(notFoundHandler);
  app.use(errorHandler(options.logger));
  return app;
}
