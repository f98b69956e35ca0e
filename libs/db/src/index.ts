export { databaseConfigShape, poolConfigOf, type DatabaseConfig } from './config.ts';
export { migrateMain, runMigrations, type MigrateOptions } from './migrate.ts';
export {
  PG_ERROR,
  createPool,
  databaseCheck,
  isPgError,
  withTransaction,
  type PoolConfig,
} from './pool.ts';
export type { Pool, PoolClient } from 'pg';
export {
  purgeExpiredIdempotencyKeys,
  requestFingerprint,
  withIdempotencyKey,
  type IdempotencyOptions,
  type StoredResponse,
} from './idempotency.ts';
