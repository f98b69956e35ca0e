import { Router, type RequestHandler } from 'express';

/**
 * Routes a service serves beside its own (probes, metrics, keys, its OpenAPI document): the exact
 * paths `router` answers. `@flotilla/health` and `@flotilla/metrics` give theirs in this shape.
 */
export interface SystemRoutes {
  readonly paths: readonly string[];
  readonly router: RequestHandler;
}

/**
 * One handler for every system route: a request enters the routers only when its path is one of
 * theirs, so the service's own requests pay a set lookup instead of a router dispatch each.
 * Paths compare as Express compares them: case-insensitive, a trailing slash ignored.
 */
export function systemRoutes(routes: readonly SystemRoutes[]): RequestHandler | undefined {
  if (routes.length === 0) return undefined;
  const paths = new Set(routes.flatMap((route) => route.paths.map(normalise)));
  const router = Router();
  for (const route of routes) router.use(route.router);
  return (req, res, next) => {
    if (paths.has(normalise(pathOf(req.url)))) router(req, res, next);
    else next();
  };
}

function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

function normalise(path: string): string {
  const lower = path.toLowerCase();
  return lower.length > 1 && lower.endsWith('/') ? lower.slice(0, -1) : lower;
}
