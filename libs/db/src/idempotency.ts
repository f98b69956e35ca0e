import { createHash } from 'node:crypto';
import { AppError } from '@flotilla/http';
import type pg from 'pg';

/** A reply as it was first given, replayed for retries with the same key. */
export interface StoredResponse {
  status: number;
  body: unknown;
}

export interface IdempotencyOptions {
  /** Whose key it is (the caller's id): keys of different callers never collide. */
  scope: string;
  key: string;
  /** Identifies the request; the same key with another fingerprint is refused. */
  fingerprint: string;
  /** How long the reply is kept and replayed. */
  ttlMs: number;
}

/** A stable fingerprint of a request: method, path and canonical JSON of the body. */
export function requestFingerprint(method: string, path: string, body: unknown): string {
  return createHash('sha256')
    .update(`${method} ${path}\n${canonicalJson(body)}`)
    .digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * Runs `execute` at most once per (scope, key), the way payment processors do it. Needs the table
 * `idempotency_keys (scope, key, fingerprint, response_status, response_body, created_at,
 * expires_at)` with primary key (scope, key), created by the service's migrations.
 * - the first request runs `execute` in a transaction and its reply is stored with the key, in
 *   the same transaction, so a crash can never leave the work done without the key or vice versa;
 * - concurrent requests with the same key wait on a transaction-level advisory lock, then replay;
 * - a retry replays the stored status and body, errors included (an AppError thrown by
 *   `execute` is stored as its problem reply; the work it did is rolled back);
 * - the same key with a different request is refused with 422 `IDEMPOTENCY_KEY_REUSED`.
 * Unexpected errors are not stored, so the request can be retried.
 */
export async function withIdempotencyKey(
  pool: pg.Pool,
  options: IdempotencyOptions,
  execute: (client: pg.PoolClient) => Promise<StoredResponse>,
  toProblem: (error: AppError) => StoredResponse,
): Promise<StoredResponse & { replayed: boolean }> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
      `${options.scope}\n${options.key}`,
    ]);
    const { rows } = await client.query<{
      fingerprint: string;
      response_status: number;
      response_body: unknown;
    }>(
      `SELECT fingerprint, response_status, response_body FROM idempotency_keys
        WHERE scope = $1 AND key = $2 AND expires_at > now()`,
      [options.scope, options.key],
    );
    const stored = rows[0];
    if (stored) {
      await client.query('COMMIT');
      if (stored.fingerprint !== options.fingerprint) {
        throw new AppError(
          'IDEMPOTENCY_KEY_REUSED',
          'This Idempotency-Key was used with a different request.',
          422,
        );
      }
      return { status: stored.response_status, body: stored.response_body, replayed: true };
    }

    await client.query('SAVEPOINT idempotent_work');
    let response: StoredResponse;
    try {
      response = await execute(client);
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      await client.query('ROLLBACK TO SAVEPOINT idempotent_work');
      response = toProblem(err);
    }
    await client.query(
      `INSERT INTO idempotency_keys (scope, key, fingerprint, response_status, response_body, expires_at)
       VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6))
       ON CONFLICT (scope, key) DO UPDATE
         SET fingerprint = EXCLUDED.fingerprint, response_status = EXCLUDED.response_status,
             response_body = EXCLUDED.response_body, created_at = now(), expires_at = EXCLUDED.expires_at`,
      [
        options.scope,
        options.key,
        options.fingerprint,
        response.status,
        JSON.stringify(response.body),
        options.ttlMs / 1000,
      ],
    );
    await client.query('COMMIT');
    return { ...response, replayed: false };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** Deletes expired keys; returns how many. Run it periodically. */
export async function purgeExpiredIdempotencyKeys(pool: pg.Pool): Promise<number> {
  const { rowCount } = await pool.query('DELETE FROM idempotency_keys WHERE expires_at <= now()');
  return rowCount ?? 0;
}
