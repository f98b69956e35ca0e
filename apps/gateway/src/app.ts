import { bearerToken, requireAuth } from '@flotilla/auth';
import { RELEASE_TOKEN_HEADER, createServiceApp, tokenMatcher } from '@flotilla/http';
import type { Express, Request, RequestHandler, Response } from 'express';
import { Counter } from 'prom-client';
import type { Dependencies } from './dependencies.ts';
import { errors } from './errors.ts';
import { combinedOpenApiRoutes } from './openapi.ts';
import { proxyHandler } from './proxy/proxy.ts';
import { ROUTES, isPublic } from './proxy/routes.ts';
import { createRateLimiter, type Limit } from './rate-limit/rate-limiter.ts';

export type AppDeps = Omit<Dependencies, 'resources'>;

const SIZE = /^(\d+)(b|kb|mb)$/;
export function bytesOf(size: string): number {
  const [, amount, unit] = SIZE.exec(size) ?? [];
  return Number(amount) * (unit === 'mb' ? 1024 * 1024 : unit === 'kb' ? 1024 : 1);
}

type Scope = 'client' | 'user';
const HEADER_OF: Record<Scope, string> = {
  client: 'RateLimit-Remaining-Client',
  user: 'RateLimit-Remaining-User',
};
/** Set once the user's bucket was taken from together with the client's. */
const USER_LIMIT_TAKEN = Symbol('user limit taken');
type Limited = { [USER_LIMIT_TAKEN]?: boolean };
const ROUTE_PREFIXES = ROUTES.map((r) => [r.prefix, `${r.prefix}/`] as const);

/** The gateway's public app: routing, authentication, rate limits, proxying. Never listens. */
export function createApp(deps: AppDeps): Express {
  const { config, metrics, logger } = deps;
  const limiter = createRateLimiter(deps.redis);
  const limiterErrors = new Counter({
    name: 'gateway_rate_limiter_errors_total',
    help: 'Rate-limit checks that failed (Redis down); those requests were let through',
    registers: [metrics.registry],
  });
  const limits: Record<Scope, Limit> = {
    client: { perMinute: config.RATE_LIMIT_CLIENT_PER_MINUTE, burst: config.RATE_LIMIT_BURST },
    user: { perMinute: config.RATE_LIMIT_USER_PER_MINUTE, burst: config.RATE_LIMIT_BURST },
  };
  // The deploy kit's requests (smoke test, analysis load) carry the admin token: a release is
  // judged on the new version's answers, never on the limiter's refusals of the kit.
  const isKitToken = config.ADMIN_TOKEN ? tokenMatcher(config.ADMIN_TOKEN) : undefined;
  const isKit = (req: Request) => {
    const given = req.headers[RELEASE_TOKEN_HEADER];
    return isKitToken !== undefined && typeof given === 'string' && isKitToken(given);
  };
  const idOf = (scope: Scope, req: Request) =>
    scope === 'user'
      ? req.principal?.userId
      : config.TRUST_PROXY
        ? req.ip
        : req.socket.remoteAddress;

  /** Takes a token from each scope's bucket in one round trip; 429 for the first refused. */
  const rateLimit = async (scopes: readonly Scope[], req: Request, res: Response) => {
    if (isKit(req)) return;
    const buckets = scopes.flatMap((scope) => {
      const id = idOf(scope, req);
      return id ? [{ scope, key: `${scope}:${id}`, limit: limits[scope] }] : [];
    });
    if (buckets.length === 0) return;
    let decisions;
    try {
      decisions = await limiter.takeAll(buckets);
    } catch (err) {
      // Fail open: an outage of the limiter must not become an outage of the platform.
      limiterErrors.inc();
      logger.warn({ err: (err as Error).message }, 'rate limiter unavailable; request allowed');
      return;
    }
    decisions.forEach((decision, i) => {
      const { scope } = buckets[i] ?? {};
      if (!scope) return;
      res.setHeader(HEADER_OF[scope], String(decision.remaining));
      if (!decision.allowed)
        throw errors.create('RATE_LIMITED', {
          headers: { 'Retry-After': String(Math.max(1, Math.ceil(decision.retryAfterMs / 1000))) },
          details: { scope },
        });
    });
  };

  // Every API request takes from its client's bucket before anything else, so a flood of bad
  // tokens is refused before their signatures are checked. A token the verifier already trusts
  // needs no check: its user's bucket is taken from in the same round trip.
  const clientLimit: RequestHandler = async (req, res, next) => {
    const query = req.originalUrl.indexOf('?');
    const path = query === -1 ? req.originalUrl : req.originalUrl.slice(0, query);
    const token = ROUTE_PREFIXES.some(([exact, under]) => path === exact || path.startsWith(under))
      ? bearerToken(req.headers.authorization)
      : undefined;
    const principal =
      token && !isPublic(req.method, path) ? deps.verifier.known?.(token) : undefined;
    if (principal && token) {
      req.principal = principal;
      req.accessToken = token;
      (req as Limited)[USER_LIMIT_TAKEN] = true;
      await rateLimit(['client', 'user'], req, res);
    } else {
      await rateLimit(['client'], req, res);
    }
    next();
  };
  const userLimit: RequestHandler = (req, res, next) => {
    if ((req as Limited)[USER_LIMIT_TAKEN]) {
      next();
      return;
    }
    return rateLimit(['user'], req, res).then(() => next());
  };

  const authenticated = requireAuth(deps.verifier);
  const authenticate: RequestHandler = (req, res, next) => {
    if (req.principal || isPublic(req.method, req.path)) {
      next();
      return;
    }
    return authenticated(req, res, next);
  };

  const proxyOptions = {
    upstreams: deps.upstreams,
    versionHeader: config.VERSION_HEADER,
    bodyLimitBytes: bytesOf(config.BODY_LIMIT),
    registry: metrics.registry,
    logger,
  };
  return createServiceApp({
    logger,
    bodyLimit: config.BODY_LIMIT,
    jsonBody: false,
    metricsMiddleware: metrics.httpMiddleware,
    faultMiddleware: deps.faults.middleware,
    systemRoutes: [deps.health, metrics],
    routes: (app) => {
      if (config.TRUST_PROXY) app.set('trust proxy', true);
      app.use('/api', clientLimit);
      app.use(combinedOpenApiRoutes(deps.upstreams, ROUTES));
      for (const route of ROUTES) {
        app.all(
          [route.prefix, `${route.prefix}/{*rest}`],
          authenticate,
          userLimit,
          proxyHandler(route, proxyOptions),
        );
      }
    },
  });
}
