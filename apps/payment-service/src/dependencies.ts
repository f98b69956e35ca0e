import { createJwksVerifier, type TokenVerifier } from '@flotilla/auth';
import {
  createPool,
  databaseCheck,
  poolConfigOf,
  purgeExpiredIdempotencyKeys,
  type Pool,
} from '@flotilla/db';
import { createFaults, faultSettingsOf, type Faults } from '@flotilla/faults';
import { createHealth, type Closer, type Health } from '@flotilla/health';
import type { Logger } from '@flotilla/logging';
import { createMetrics, type Metrics } from '@flotilla/metrics';
import type { PaymentServiceConfig } from './config.ts';
import { createSandboxProcessor, type CardProcessor } from './payments/sandbox-processor.ts';

export const SERVICE_NAME = 'payment-service';

export interface Dependencies {
  config: PaymentServiceConfig;
  logger: Logger;
  db: Pool;
  health: Health;
  faults: Faults;
  metrics: Metrics;
  verifier: TokenVerifier;
  processor: CardProcessor;
  resources: Closer[];
}

/** Opens the pool, starts the expired-key purge, and builds the app's dependencies. */
export function createDependencies(
  config: PaymentServiceConfig,
  logger: Logger,
): Promise<Dependencies> {
  const db = createPool(poolConfigOf(config, SERVICE_NAME), (err) =>
    logger.error({ err }, 'idle PostgreSQL client failed'),
  );
  const metrics = createMetrics({ service: SERVICE_NAME });
  const faults = createFaults(faultSettingsOf(config), { logger });
  metrics.observePool(db);
  const purge = setInterval(() => {
    purgeExpiredIdempotencyKeys(db).then(
      (count) => count > 0 && logger.info({ count }, 'purged expired idempotency keys'),
      (err: unknown) => logger.warn({ err }, 'idempotency key purge failed'),
    );
  }, config.IDEMPOTENCY_PURGE_INTERVAL_MS);
  purge.unref();

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
    processor: createSandboxProcessor({ slowMs: config.SANDBOX_SLOW_MS }),
    resources: [
      { name: 'postgres', close: () => db.end() },
      { name: 'idempotency-purge', close: () => clearInterval(purge) },
    ],
  };
  return Promise.resolve(deps);
}
