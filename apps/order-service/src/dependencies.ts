import { createJwksVerifier, type TokenVerifier } from '@flotilla/auth';
import { createPool, databaseCheck, poolConfigOf, type Pool } from '@flotilla/db';
import { createFaults, faultSettingsOf, type Faults } from '@flotilla/faults';
import { createHealth, type Closer, type Health } from '@flotilla/health';
import { createHttpClient, type ClientResponse, type HttpClient } from '@flotilla/http-client';
import type { Logger } from '@flotilla/logging';
import { createMetrics, type Metrics } from '@flotilla/metrics';
import { createServiceTokenSource, type ServiceTokenSource } from './clients/upstreams.ts';
import type { OrderServiceConfig } from './config.ts';

export const SERVICE_NAME = 'order-service';

export interface Dependencies {
  config: OrderServiceConfig;
  logger: Logger;
  db: Pool;
  health: Health;
  faults: Faults;
  metrics: Metrics;
  verifier: TokenVerifier;
  users: HttpClient;
  payments: HttpClient;
  tokens: ServiceTokenSource;
  resources: Closer[];
}

/** Opens the pool and the upstream clients and builds the app's dependencies. */
export function createDependencies(
  config: OrderServiceConfig,
  logger: Logger,
): Promise<Dependencies> {
  const db = createPool(poolConfigOf(config, SERVICE_NAME), (err) =>
    logger.error({ err }, 'idle PostgreSQL client failed'),
  );
  const metrics = createMetrics({ service: SERVICE_NAME });
  const faults = createFaults(faultSettingsOf(config), { logger });
  metrics.observePool(db);
  const upstream = (
    name: string,
    baseUrl: string,
    timeoutMs: number,
    isFailure?: (r: ClientResponse) => boolean,
  ) =>
    createHttpClient({
      upstream: name,
      baseUrl,
      timeoutMs,
      maxAttempts: config.UPSTREAM_MAX_ATTEMPTS,
      retryBaseDelayMs: 100,
      retryMaxDelayMs: 1000,
      breaker: {
        threshold: config.BREAKER_THRESHOLD,
        samplingDurationMs: config.BREAKER_SAMPLING_MS,
        minimumRps: config.BREAKER_MIN_RPS,
        halfOpenAfterMs: config.BREAKER_HALF_OPEN_AFTER_MS,
      },
      connections: 16,
      keepAliveTimeoutMs: 30_000,
      registry: metrics.registry,
      ...(isFailure ? { isFailure } : {}),
    });
  const users = upstream('user-service', config.USER_SERVICE_URL, config.UPSTREAM_TIMEOUT_MS);
  // A processor outage is payment-service's definitive, replayed answer, not payment-service failing.
  const payments = upstream(
    'payment-service',
    config.PAYMENT_SERVICE_URL,
    config.PAYMENT_TIMEOUT_MS,
    (r) =>
      r.status >= 500 &&
      (r.body as { code?: string } | undefined)?.code !== 'PROCESSOR_UNAVAILABLE',
  );
  const deps: Dependencies = {
    config,
    logger,
    db,
    metrics,
    faults,
    health: createHealth({
      checks: [databaseCheck(db), faults.readinessCheck],
      checkTimeoutMs: config.READINESS_CHECK_TIMEOUT_MS,
    }),
    verifier: createJwksVerifier({
      jwksUrl: config.AUTH_JWKS_URL,
      issuer: config.AUTH_ISSUER,
      audience: config.AUTH_AUDIENCE,
    }),
    users,
    payments,
    tokens: createServiceTokenSource(users, {
      clientId: config.SERVICE_CLIENT_ID,
      clientSecret: config.SERVICE_CLIENT_SECRET,
      now: () => Date.now(),
    }),
    resources: [
      { name: 'postgres', close: () => db.end() },
      { name: 'user-service client', close: () => users.close() },
      { name: 'payment-service client', close: () => payments.close() },
    ],
  };
  return Promise.resolve(deps);
}
