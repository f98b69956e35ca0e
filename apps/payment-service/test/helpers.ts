import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '@flotilla/config';
import { runMigrations } from '@flotilla/db';
import { createLogger } from '@flotilla/logging';
import {
  startTestInfrastructure,
  startTestIssuer,
  type TestInfrastructure,
  type TestIssuer,
} from '@flotilla/testing';
import type { Express } from 'express';
import { createApp } from '../src/app.ts';
import { configSchema } from '../src/config.ts';
import { createDependencies, type Dependencies } from '../src/dependencies.ts';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../src/migrations', import.meta.url));

export interface ServiceUnderTest {
  app: Express;
  deps: Dependencies;
  issuer: TestIssuer;
  infra: TestInfrastructure;
  /** A fresh token for a caller (a new user unless `userId` is given) and its headers. */
  auth(options?: {
    userId?: string;
    role?: string;
  }): Promise<{ headers: { Authorization: string }; userId: string }>;
  stop(): Promise<void>;
}

/** payment-service wired as main.ts wires it, with tokens from a test issuer's real JWKS. */
export async function startService(env: Record<string, string> = {}): Promise<ServiceUnderTest> {
  const infra = await startTestInfrastructure();
  const issuer = await startTestIssuer();
  await runMigrations({
    databaseUrl: infra.databaseUrl,
    dir: MIGRATIONS_DIR,
    log: () => undefined,
  });
  const config = loadConfig('payment-service', configSchema, {
    DATABASE_URL: infra.databaseUrl,
    AUTH_JWKS_URL: issuer.jwksUrl,
    LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent',
    SANDBOX_SLOW_MS: '300',
    ...env,
  });
  const deps = await createDependencies(
    config,
    createLogger({ service: 'payment-service', level: config.LOG_LEVEL }),
  );
  return {
    app: createApp(deps),
    deps,
    issuer,
    infra,
    async auth({ userId = randomUUID(), role = 'user' } = {}) {
      return {
        headers: { Authorization: `Bearer ${await issuer.issue({ userId, role })}` },
        userId,
      };
    },
    async stop() {
      for (const resource of [...deps.resources].reverse()) await resource.close();
      await issuer.stop();
      await infra.stop();
    },
  };
}

/** A valid charge with a fresh order id; override what the test is about. */
export function buildCharge(overrides: Record<string, unknown> = {}) {
  return {
    orderId: randomUUID(),
    amount: 2599,
    currency: 'EUR',
    cardToken: 'tok_visa',
    ...overrides,
  };
}
