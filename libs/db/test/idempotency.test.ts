import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError } from '@flotilla/http';
import { startTestInfrastructure, type TestInfrastructure } from '@flotilla/testing';
import {
  createPool,
  purgeExpiredIdempotencyKeys,
  withIdempotencyKey,
  type IdempotencyOptions,
  type Pool,
  type PoolClient,
  type StoredResponse,
} from '../src/index.ts';

let infra: TestInfrastructure;
let pool: Pool;

before(async () => {
  infra = await startTestInfrastructure();
  pool = createPool(
    {
      url: infra.databaseUrl,
      applicationName: 'db-idempotency-test',
      max: 5,
      connectionTimeoutMs: 2000,
      statementTimeoutMs: 10_000,
      idleTimeoutMs: 10_000,
    },
    () => undefined,
  );
  // The table withIdempotencyKey documents; services create it in their migrations.
  await pool.query(`CREATE TABLE idempotency_keys (
    scope text NOT NULL, key text NOT NULL, fingerprint text NOT NULL,
    response_status integer NOT NULL, response_body jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(), expires_at timestamptz NOT NULL,
    PRIMARY KEY (scope, key))`);
  await pool.query('CREATE TABLE effects (key text NOT NULL)');
});
after(async () => {
  await pool.end();
  await infra.stop();
});

const toProblem = (err: AppError): StoredResponse => ({
  status: err.status,
  body: { code: err.code },
});

/** Options with a key no other test uses. */
const options = (overrides: Partial<IdempotencyOptions> = {}): IdempotencyOptions => ({
  scope: 'user-1',
  key: randomUUID(),
  fingerprint: 'f1',
  ttlMs: 86_400_000,
  ...overrides,
});

/** Work that leaves a row in `effects`, so the number of runs can be counted. */
const recordingWork =
  (key: string, response: StoredResponse = { status: 201, body: { ok: true } }) =>
  async (client: PoolClient): Promise<StoredResponse> => {
    await client.query('INSERT INTO effects VALUES ($1)', [key]);
    return response;
  };

async function runsOf(key: string): Promise<number> {
  const { rowCount } = await pool.query('SELECT 1 FROM effects WHERE key = $1', [key]);
  return rowCount ?? 0;
}

describe('withIdempotencyKey', () => {
  it('runs the work once and replays its reply for a retry', async () => {
    const opts = options();

    const first = await withIdempotencyKey(pool, opts, recordingWork(opts.key), toProblem);
    const second = await withIdempotencyKey(pool, opts, recordingWork(opts.key), toProblem);

    assert.deepEqual(first, { status: 201, body: { ok: true }, replayed: false });
    assert.deepEqual(second, { status: 201, body: { ok: true }, replayed: true });
    assert.equal(await runsOf(opts.key), 1);
  });

  it('keeps the keys of different scopes apart', async () => {
    const key = randomUUID();

    await withIdempotencyKey(pool, options({ key, scope: 'a' }), recordingWork(key), toProblem);
    const other = await withIdempotencyKey(
      pool,
      options({ key, scope: 'b' }),
      recordingWork(key),
      toProblem,
    );

    assert.equal(other.replayed, false);
    assert.equal(await runsOf(key), 2);
  });

  it('lets concurrent duplicates wait for the first and replay its reply', async () => {
    const opts = options();
    const slowWork = async (client: PoolClient) => {
      await client.query('SELECT pg_sleep(0.2)');
      return recordingWork(opts.key)(client);
    };

    const results = await Promise.all(
      Array.from({ length: 3 }, () => withIdempotencyKey(pool, opts, slowWork, toProblem)),
    );

    assert.deepEqual(results.map((r) => r.replayed).sort(), [false, true, true]);
    assert.equal(await runsOf(opts.key), 1);
  });

  it('stores an AppError as its reply and rolls back the work it did', async () => {
    const opts = options();
    const failingWork = async (client: PoolClient) => {
      await recordingWork(opts.key)(client);
      throw new AppError('UPSTREAM_DOWN', 'down', 502);
    };

    const first = await withIdempotencyKey(pool, opts, failingWork, toProblem);
    const retry = await withIdempotencyKey(pool, opts, recordingWork(opts.key), toProblem);

    assert.deepEqual(first, { status: 502, body: { code: 'UPSTREAM_DOWN' }, replayed: false });
    assert.deepEqual(retry, { status: 502, body: { code: 'UPSTREAM_DOWN' }, replayed: true });
    assert.equal(await runsOf(opts.key), 0);
  });

  it('refuses the same key with another request with 422 IDEMPOTENCY_KEY_REUSED', async () => {
    const opts = options({ fingerprint: 'a' });
    await withIdempotencyKey(pool, opts, recordingWork(opts.key), toProblem);

    const error = await withIdempotencyKey(
      pool,
      { ...opts, fingerprint: 'b' },
      recordingWork(opts.key),
      toProblem,
    ).catch((err: unknown) => err);

    assert.ok(error instanceof AppError, `got ${String(error)}`);
    assert.equal(error.code, 'IDEMPOTENCY_KEY_REUSED');
    assert.equal(error.status, 422);
    assert.equal(await runsOf(opts.key), 1);
  });

  it('does not store unexpected errors, so the request can be retried', async () => {
    const opts = options();
    const bug = new Error('bug');

    const error = await withIdempotencyKey(
      pool,
      opts,
      async (client) => {
        await recordingWork(opts.key)(client);
        throw bug;
      },
      toProblem,
    ).catch((err: unknown) => err);
    const retried = await withIdempotencyKey(pool, opts, recordingWork(opts.key), toProblem);

    assert.equal(error, bug);
    assert.equal(retried.replayed, false);
    assert.equal(await runsOf(opts.key), 1, 'the failed attempt left nothing behind');
  });

  it('runs the work again once the stored reply has expired', async () => {
    const opts = options({ ttlMs: 50 });
    await withIdempotencyKey(pool, opts, recordingWork(opts.key), toProblem);
    await sleep(100);

    const again = await withIdempotencyKey(pool, opts, recordingWork(opts.key), toProblem);

    assert.equal(again.replayed, false);
    assert.equal(await runsOf(opts.key), 2);
  });
});

describe('purgeExpiredIdempotencyKeys', () => {
  it('deletes expired keys only and says how many', async () => {
    await pool.query('DELETE FROM idempotency_keys');
    const expired = options({ ttlMs: 10 });
    const live = options();
    await withIdempotencyKey(pool, expired, recordingWork(expired.key), toProblem);
    await withIdempotencyKey(pool, live, recordingWork(live.key), toProblem);
    await sleep(50);

    const purged = await purgeExpiredIdempotencyKeys(pool);

    assert.equal(purged, 1);
    const { rows } = await pool.query<{ key: string }>('SELECT key FROM idempotency_keys');
    assert.deepEqual(rows, [{ key: live.key }]);
  });
});
