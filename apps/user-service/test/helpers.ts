import { loadConfig } from '@flotilla/config';
import { runMigrations } from '@flotilla/db';
import { createLogger } from '@flotilla/logging';
import { startTestInfrastructure, type TestInfrastructure } from '@flotilla/testing';
import type { Express } from 'express';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createApp } from '../src/app.ts';
import { configSchema, type UserServiceConfig } from '../src/config.ts';
import { createDependencies, type Dependencies } from '../src/dependencies.ts';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../src/migrations', import.meta.url));

/** user-service wired exactly as main.ts wires it, on a database and key prefix of its own. */
export interface ServiceUnderTest {
  app: Express;
  deps: Dependencies;
  config: UserServiceConfig;
  infra: TestInfrastructure;
  stop(): Promise<void>;
}

export async function startService(env: Record<string, string> = {}): Promise<ServiceUnderTest> {
  const infra = await startTestInfrastructure();
  try {
    await runMigrations({
      databaseUrl: infra.databaseUrl,
      dir: MIGRATIONS_DIR,
      log: () => undefined,
    });
    const config = loadConfig('user-service', configSchema, {
      DATABASE_URL: infra.databaseUrl,
      REDIS_URL: infra.redisUrl,
      REDIS_KEY_PREFIX: infra.redisKeyPrefix,
      LOG_LEVEL: 'silent',
      ...env,
    });
    const logger = createLogger({ service: 'user-service', level: config.LOG_LEVEL });
    const deps = await createDependencies(config, logger);
    return {
      app: createApp(deps),
      deps,
      config,
      infra,
      async stop() {
        for (const resource of [...deps.resources].reverse()) await resource.close();
        await infra.stop();
      },
    };
  } catch (err) {
    await infra.stop();
    throw err;
  }
}

/** Registration input with unique defaults; override what the test is about. */
export function buildUser(
  overrides: Partial<{ email: string; password: string; name: string }> = {},
) {
  return {
    email: `user-${randomUUID()}@example.com`,
    password: 'correct horse battery staple',
    name: 'Ada Lovelace',
    ...overrides,
  };
}
