import { requireAuth } from '@flotilla/auth';
import { createServiceApp } from '@flotilla/http';
import type { Express, RequestHandler } from 'express';
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

/** The gateway's public app: routing, authentication, rate limits, proxying. Never listens. */
export function createApp(deps: AppDeps): Express {
  const { config, metrics, logger } = deps;
  const limiter = createRateLimiter(deps.redis);
  const limiterErrors = new Counter({
    name: 'gateway_rate_limiter_errors_total',
    help: 'Rate-limit checks that failed (Redis down); those requests were let through',
    registers: [metrics.registry],
  });

  const rateLimit =
    (scope: 'client' | 'user', limit: Limit): RequestHandler =>
    async (req, res, next) => {
      const id =
        scope === 'client'
          ? config.TRUST_PROXY
            ? req.ip
            : req.socket.remoteAddress
          : req.principal?.userId;
      if (!id) {
        next();
        return;
      }
      let decision;
      try {
        decision = await limiter.take(`${scope}:${id}`, limit);
      } catch (err) {
        // Fail open: an outage of the limiter must not become an outage of the platform.
        limiterErrors.inc();
        logger.warn({ err: (err as Error).message }, 'rate limiter unavailable; request allowed');
        next();
        return;
      }
      res.setHeader(
        `RateLimit-Remaining-${scope === 'client' ? 'Client' : 'User'}`,
        String(decision.remaining),
      );
      if (decision.allowed) {
        next();
        return;
      }
      next(
        errors.create('RATE_LIMITED', {
          headers: { 'Retry-After': String(Math.max(1, Math.ceil(decision.retryAfterMs / 1000))) },
          details: { scope },
        }),
      );
    };

  const authenticated = requireAuth(deps.verifier);
  const authenticate: RequestHandler = (req, res, next) => {
    if (isPublic(req.method, req.path)) {
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
  const burst = config.RATE_LIMIT_BURST;
  return createServiceApp({
    logger,
    bodyLimit: config.BODY_LIMIT,
    jsonBody: false,
    metricsMiddleware: metrics.httpMiddleware,
    faultMiddleware: deps.faults.middleware,
    systemRouters: [deps.health.router, metrics.router],
    routes: (app) => {
      if (config.TRUST_PROXY) app.set('trust proxy', true);
      app.use(
        '/api',
        rateLimit('client', { perMinute: config.RATE_LIMIT_CLIENT_PER_MINUTE, burst }),
      );
      app.use(combinedOpenApiRoutes(deps.upstreams, ROUTES));
      for (const route of ROUTES) {
        app.all(
          [route.prefix, `${route.prefix}/{*rest}`],
          authenticate,
          rateLimit('user', { perMinute: config.RATE_LIMIT_USER_PER_MINUTE, burst }),
          proxyHandler(route, proxyOptions),
        );
      }
    },
  });
}
