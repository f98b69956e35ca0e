import { createJwksVerifier, type TokenVerifier } from '@flotilla/auth';
import {
  closeRedis,
  createLoggedRedis,
  redisCheck,
  redisConfigOf,
  type Redis,
} from '@flotilla/cache';
import { createFaults, faultSettingsOf, type Faults } from '@flotilla/faults';
import { createHealth, type Closer, type Health } from '@flotilla/health';
import type { Logger } from '@flotilla/logging';
import { createMetrics, type Metrics } from '@flotilla/metrics';
import type { GatewayConfig } from './config.ts';
import { createUpstreamRegistry, type UpstreamRegistry } from './proxy/upstreams.ts';

export const SERVICE_NAME = 'gateway';

export interface Dependencies {
  config: GatewayConfig;
  logger: Logger;
  redis: Redis;
  health: Health;
  faults: Faults;
  metrics: Metrics;
  verifier: TokenVerifier;
  upstreams: UpstreamRegistry;
  resources: Closer[];
}

/**
 * Opens Redis and the upstream pools: each service starts with one version, v1 at its
 * `*_SERVICE_URL`, unless `UPSTREAMS` gives its versions.
 */
export function createDependencies(config: GatewayConfig, logger: Logger): Promise<Dependencies> {
  const redis = createLoggedRedis(redisConfigOf(config, config.REDIS_KEY_PREFIX), logger);
  const metrics = createMetrics({ service: SERVICE_NAME });
  const faults = createFaults(faultSettingsOf(config), { logger });
  metrics.observeRedis(redis);
  const upstreams = createUpstreamRegistry(
    {
      'user-service': [{ version: 'v1', url: config.USER_SERVICE_URL, weight: 100 }],
      'order-service': [{ version: 'v1', url: config.ORDER_SERVICE_URL, weight: 100 }],
      'payment-service': [{ version: 'v1', url: config.PAYMENT_SERVICE_URL, weight: 100 }],
      ...config.UPSTREAMS,
    },
    { connections: config.UPSTREAM_CONNECTIONS, timeoutMs: config.UPSTREAM_TIMEOUT_MS },
  );
  const deps: Dependencies = {
    config,
    logger,
    redis,
    metrics,
    faults,
    upstreams,
    // Rate limits fail open without Redis, so the gateway stays ready (degraded) when it is down.
    health: createHealth({
      checks: [redisCheck(redis), faults.readinessCheck],
      checkTimeoutMs: config.READINESS_CHECK_TIMEOUT_MS,
    }),
    verifier: createJwksVerifier({
      jwksUrl: config.AUTH_JWKS_URL,
      issuer: config.AUTH_ISSUER,
      audience: config.AUTH_AUDIENCE,
    }),
    resources: [
      { name: 'redis', close: () => closeRedis(redis) },
      { name: 'upstream pools', close: () => upstreams.close() },
    ],
  };
  return Promise.resolve(deps);
}
