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
