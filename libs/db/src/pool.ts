import pg from 'pg';

export interface PoolConfig {
  url: string;
  /** Shown in pg_stat_activity, so a DBA can tell who holds a connection. */
  applicationName: string;
  max: number;
  connectionTimeoutMs: number;
  statementTimeoutMs: number;
  idleTimeoutMs: number;
}

/**
 * A bounded pg Pool: a connection wait limit, a server-side statement timeout and an idle
 * timeout are always set. Errors of idle and of checked-out clients (a restarted server) are
 * passed to `onError` instead of crashing the process.
 */
export function createPool(config: PoolConfig, onError: (err: Error) => void): pg.Pool {
  const pool = new pg.Pool({
    connectionString: config.url,
    application_name: config.applicationName,
    max: config.max,
    connectionTimeoutMillis: config.connectionTimeoutMs,
    idleTimeoutMillis: config.idleTimeoutMs,
    statement_timeout: config.statementTimeoutMs,
  });
  pool.on('error', onError);
  // pg listens for errors of idle clients only: a connection that dies while checked out would
  // otherwise emit an unhandled 'error' and end the process. The pool drops it on release.
  pool.on('acquire', (client) => client.on('error', onError));
  pool.on('release', (_err, client) => client.removeListener('error', onError));
  return pool;
}

/** Runs `fn` in a transaction: COMMIT when it resolves, ROLLBACK when it throws. */
export async function withTransaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    client.release();
    return result;
  } catch (err) {
    try {
      await client.query('ROLLBACK');
      client.release();
    } catch (rollbackError) {
      // The connection is broken; destroy it rather than returning it to the pool.
      client.release(rollbackError as Error);
    }
    throw err;
  }
}

/** PostgreSQL SQLSTATE codes the services react to. */
export const PG_ERROR = {
  UNIQUE_VIOLATION: '23505',
  FOREIGN_KEY_VIOLATION: '23503',
  CHECK_VIOLATION: '23514',
  SERIALIZATION_FAILURE: '40001',
  RAISE_EXCEPTION: 'P0001',
} as const;

/** True when `err` is a PostgreSQL error with `code` (and, when given, on `constraint`). */
export function isPgError(err: unknown, code: string, constraint?: string): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; constraint?: unknown };
  return e.code === code && (constraint === undefined || e.constraint === constraint);
}

/** A readiness check that runs `SELECT 1`. */
export function databaseCheck(pool: pg.Pool) {
  return { name: 'postgres', check: () => pool.query('SELECT 1') };
}
