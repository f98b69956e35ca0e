import {
  closeRedis,
  createLoggedRedis,
  redisCheck,
  redisConfigOf,
  type Redis,
} from '@flotilla/cache';
import { createPool, databaseCheck, poolConfigOf, type Pool } from '@flotilla/db';
import { createFaults, faultSettingsOf, type Faults } from '@flotilla/faults';
import { createHealth, type Closer, type Health } from '@flotilla/health';
import type { Logger } from '@flotilla/logging';
import { createMetrics, type Metrics } from '@flotilla/metrics';
import type { AppDeps } from './app.ts';
import { createPasswordHasher } from './auth/passwords.ts';
import { createTokenService, loadSigningKey } from './auth/tokens.ts';
import type { UserServiceConfig } from './config.ts';

export const SERVICE_NAME = 'user-service';

/** Everything the app needs, built from config, plus the resources to close, in opening order. */
export interface Dependencies extends AppDeps {
  db: Pool;
  redis: Redis;
  health: Health;
  faults: Faults;
  metrics: Metrics;
  resources: Closer[];
}

/**
 * Opens the pool and the Redis client and builds the app's dependencies. Redis is a cache here:
 * its check is non-critical, so `/ready` reports it down but the service stays ready.
 */
export async function createDependencies(
  config: UserServiceConfig,
  logger: Logger,
): Promise<Dependencies> {
  const db = createPool(poolConfigOf(config, SERVICE_NAME), (err) =>
    logger.error({ err }, 'idle PostgreSQL client failed'),
  );
  const redis = createLoggedRedis(redisConfigOf(config, config.REDIS_KEY_PREFIX), logger);

  const metrics = createMetrics({ service: SERVICE_NAME });
  const faults = createFaults(faultSettingsOf(config), { logger });
  metrics.observePool(db);
  metrics.observeRedis(redis);
  const health = createHealth({
    checks: [databaseCheck(db), redisCheck(redis), faults.readinessCheck],
    checkTimeoutMs: config.READINESS_CHECK_TIMEOUT_MS,
  });

  const key = await loadSigningKey(config.JWT_PRIVATE_KEY, config.JWT_KEY_ID);
  if (key.generated) {
    logger.warn(
      { kid: key.kid },
      'JWT_PRIVATE_KEY is not set: signing tokens with a throwaway key. Tokens will not survive a restart ' +
        'and other replicas will reject them. Set JWT_PRIVATE_KEY in every shared environment.',
    );
  }
  const tokens = createTokenService(key, {
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    ttlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
  });

  return {
    config,
    logger,
    db,
    redis,
    health,
    faults,
    metrics,
    tokens,
    hasher: createPasswordHasher({
      memoryKiB: config.PASSWORD_ARGON2_MEMORY_KIB,
      passes: config.PASSWORD_ARGON2_PASSES,
      parallelism: 1,
    }),
    clock: { now: () => Date.now() },
    resources: [
      { name: 'postgres', close: () => db.end() },
      { name: 'redis', close: () => closeRedis(redis) },
    ],
  };
}
