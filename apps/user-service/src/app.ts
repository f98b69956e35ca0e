import { createJsonCache, type Redis } from '@flotilla/cache';
import type { Pool } from '@flotilla/db';
import type { Faults } from '@flotilla/faults';
import type { Health } from '@flotilla/health';
import { createServiceApp } from '@flotilla/http';
import type { Logger } from '@flotilla/logging';
import type { Metrics } from '@flotilla/metrics';
import type { Express } from 'express';
import { Counter } from 'prom-client';
import type { PasswordHasher } from './auth/passwords.ts';
import { clientCredentialsRoutes } from './auth/client-credentials.ts';
import { jwksRoutes } from './auth/jwks.routes.ts';
import { openApiDocument } from './openapi.ts';
import type { TokenService } from './auth/tokens.ts';
import type { UserServiceConfig } from './config.ts';
import { createUsersRepository } from './users/users.repository.ts';
import { usersRoutes } from './users/users.routes.ts';
import { createUsersService, type Clock, type UserView } from './users/users.service.ts';

export interface AppDeps {
  config: Pick<
    UserServiceConfig,
    'BODY_LIMIT' | 'PROFILE_CACHE_TTL_SECONDS' | 'SERVICE_CLIENTS' | 'SERVICE_TOKEN_TTL_SECONDS'
  >;
  logger: Logger;
  db: Pool;
  redis: Redis;
  health: Health;
  faults: Faults;
  metrics: Metrics;
  tokens: TokenService;
  hasher: PasswordHasher;
  clock: Clock;
}

/** user-service's HTTP app. Never listens and never reads the environment. */
export function createApp(deps: AppDeps): Express {
  const { config, logger, metrics } = deps;
  const cacheErrors = new Counter({
    name: 'cache_errors_total',
    help: 'Profile cache operations that failed (served from the database instead)',
    labelNames: ['op'] as const,
    registers: [metrics.registry],
  });
  const profiles = createJsonCache<UserView>(deps.redis, {
    namespace: 'profile',
    ttlSeconds: config.PROFILE_CACHE_TTL_SECONDS,
    onError: (err, op) => {
      cacheErrors.inc({ op });
      logger.warn({ err: err.message, op }, 'profile cache unavailable; using the database');
    },
  });
  const users = createUsersService({
    repository: createUsersRepository(deps.db),
    hasher: deps.hasher,
    tokens: deps.tokens,
    profiles,
    clock: deps.clock,
  });

  return createServiceApp({
    logger,
    bodyLimit: config.BODY_LIMIT,
    metricsMiddleware: metrics.httpMiddleware,
    faultMiddleware: deps.faults.middleware,
    systemRoutes: [deps.health, metrics, jwksRoutes(deps.tokens)],
    openApi: openApiDocument,
    routes: (app) => {
      app.use(usersRoutes(users, deps.tokens));
      app.use(
        clientCredentialsRoutes(config.SERVICE_CLIENTS, deps.tokens, {
          ttlSeconds: config.SERVICE_TOKEN_TTL_SECONDS,
          now: () => deps.clock.now(),
        }),
      );
    },
  });
}
