import type { PoolConfig } from './pool.ts';
import { field } from '@flotilla/config';
import { z } from 'zod';

/** Database keys every service with a database shares; spread into the service's schema. */
export const databaseConfigShape = {
  DATABASE_URL: z
    .url({ protocol: /^postgres(ql)?$/ })
    .describe('PostgreSQL connection URL, e.g. postgres://user:pass@host:5432/db'),
  DB_POOL_MAX: field.integer(10, 'most connections the pool opens', { min: 1, max: 200 }),
  DB_CONNECTION_TIMEOUT_MS: field.milliseconds(3000, 'time to wait for a pooled connection', {
    min: 1,
  }),
  DB_STATEMENT_TIMEOUT_MS: field.milliseconds(5000, 'server-side limit per SQL statement', {
    min: 1,
  }),
  DB_IDLE_TIMEOUT_MS: field.milliseconds(30_000, 'idle connections are closed after this long'),
  MIGRATE_ON_START: field.boolean(false, 'apply pending migrations before listening'),
} as const;

/** The keys of {@link databaseConfigShape} a pool needs, as parsed. */
export interface DatabaseConfig {
  DATABASE_URL: string;
  DB_POOL_MAX: number;
  DB_CONNECTION_TIMEOUT_MS: number;
  DB_STATEMENT_TIMEOUT_MS: number;
  DB_IDLE_TIMEOUT_MS: number;
}

/** The pool settings of a service's parsed database keys. */
export function poolConfigOf(config: DatabaseConfig, applicationName: string): PoolConfig {
  return {
    url: config.DATABASE_URL,
    applicationName,
    max: config.DB_POOL_MAX,
    connectionTimeoutMs: config.DB_CONNECTION_TIMEOUT_MS,
    statementTimeoutMs: config.DB_STATEMENT_TIMEOUT_MS,
    idleTimeoutMs: config.DB_IDLE_TIMEOUT_MS,
  };
}
