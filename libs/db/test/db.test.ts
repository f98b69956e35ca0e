import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AppError } from '@flotilla/http';
import { startTestInfrastructure, type TestInfrastructure } from '@flotilla/testing';
import {
  PG_ERROR,
  createPool,
  databaseCheck,
  isPgError,
  requestFingerprint,
  runMigrations,
  withIdempotencyKey,
  withTransaction,
  type Pool,
} from '../src/index.ts';

let infra: TestInfrastructure;
let pool: Pool;
const poolConfig = (url: string, overrides: Partial<Parameters<typeof createPool>[0]> = {}) => ({
  url,
  applicationName: 'db-test',
  max: 5,
  connectionTimeoutMs: 500,
  statementTimeoutMs: 10_000,
  idleTimeoutMs: 1000,
  ...overrides,
});

before(async () => {
  infra = await startTestInfrastructure();
  pool = createPool(poolConfig(infra.databaseUrl), () => undefined);
  await pool.query('CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL)');
});
after(async () => {
  await pool.end();
  await infra.stop();
});

describe('createPool', () => {
  it('sets a server-side statement timeout', async () => {
    const strict = createPool(
      poolConfig(infra.databaseUrl, { statementTimeoutMs: 200 }),
      () => undefined,
    );
    try {
      await assert.rejects(strict.query('SELECT pg_sleep(2)'), (err: unknown) =>
        isPgError(err, '57014'),
      );
    } finally {
      await strict.end();
    }
  });

  it('gives up waiting for a connection after the connection timeout', async () => {
    const tiny = createPool(
      poolConfig(infra.databaseUrl, { max: 1, connectionTimeoutMs: 200 }),
      () => undefined,
    );
    const held = await tiny.connect();
    try {
      await assert.rejects(tiny.connect(), /timeout/i);
    } finally {
      held.release();
      await tiny.end();
    }
  });

  it('names the application in pg_stat_activity', async () => {
    const { rows } = await pool.query<{ name: string }>('SELECT current_setting($1) AS name', [
      'application_name',
    ]);
    assert.equal(rows[0]?.name, 'db-test');
  });
});

describe('withTransaction', () => {
  it('commits when the work resolves', async () => {
    await withTransaction(pool, (client) => client.query("INSERT INTO items VALUES (1, 'one')"));
    const { rowCount } = await pool.query('SELECT 1 FROM items WHERE id = 1');
    assert.equal(rowCount, 1);
  });

  it('rolls back when the work throws, and returns the client to the pool', async () => {
    await assert.rejects(
      withTransaction(pool, async (client) => {
        await client.query("INSERT INTO items VALUES (2, 'two')");
        throw new Error('changed my mind');
      }),
      /changed my mind/,
    );
    const { rowCount } = await pool.query('SELECT 1 FROM items WHERE id = 2');
    assert.equal(rowCount, 0);
    assert.equal(pool.totalCount, pool.idleCount, 'no client is left checked out');
  });
});

describe('isPgError', () => {
  it('recognises a unique violation and its constraint', async () => {
    const err = await pool.query("INSERT INTO items VALUES (1, 'dup')").catch((e: unknown) => e);
    assert.equal(isPgError(err, PG_ERROR.UNIQUE_VIOLATION), true);
    assert.equal(isPgError(err, PG_ERROR.UNIQUE_VIOLATION, 'items_pkey'), true);
    assert.equal(isPgError(err, PG_ERROR.UNIQUE_VIOLATION, 'other'), false);
    assert.equal(isPgError(new Error('x'), PG_ERROR.UNIQUE_VIOLATION), false);
  });
});

describe('databaseCheck', () => {
  it('resolves while the server answers and rejects when it does not', async () => {
    await databaseCheck(pool).check();
    const url = new URL(infra.databaseUrl);
    url.port = '1';
    const dead = createPool(poolConfig(url.toString()), () => undefined);
    await assert.rejects(databaseCheck(dead).check());
    await dead.end();
  });
});

describe('runMigrations', () => {
  it('applies numbered SQL files in order once, and a broken one rolls back every pending one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'migrations-'));
    try {
      await writeFile(
        join(dir, '001_create_a.sql'),
        '-- Up Migration\nCREATE TABLE mig_a (id int);',
      );
      await writeFile(
        join(dir, '002_create_b.sql'),
        '-- Up Migration\nCREATE TABLE mig_b (id int);',
      );
      const log: string[] = [];
      const applied = await runMigrations({
        databaseUrl: infra.databaseUrl,
        dir,
        log: (m) => log.push(m),
      });
      assert.deepEqual(applied, ['001_create_a', '002_create_b']);
      assert.deepEqual(
        await runMigrations({ databaseUrl: infra.databaseUrl, dir, log: () => undefined }),
        [],
      );

      await writeFile(
        join(dir, '003_create_c.sql'),
        '-- Up Migration\nCREATE TABLE mig_c (id int);',
      );
      await writeFile(join(dir, '004_broken.sql'), '-- Up Migration\nCREATE TABLE mig_d (id int;');
      await assert.rejects(
        runMigrations({ databaseUrl: infra.databaseUrl, dir, log: () => undefined }),
      );
      const { rowCount } = await pool.query(
        "SELECT 1 FROM information_schema.tables WHERE table_name = 'mig_c'",
      );
      assert.equal(rowCount, 0, '003 was rolled back with 004');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('lets concurrent runs apply each migration once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'migrations-'));
    const databaseUrl = infra.databaseUrl.replace(/\/[^/]+$/, '/postgres');
    const admin = createPool(
      poolConfig(databaseUrl, { statementTimeoutMs: 30_000 }),
      () => undefined,
    );
    const name = `concurrent_migrations_${process.pid}`;
    await admin.query(`CREATE DATABASE ${name}`);
    const target = databaseUrl.replace(/\/postgres$/, `/${name}`);
    try {
      await writeFile(
        join(dir, '001_counter.sql'),
        '-- Up Migration\nCREATE TABLE counter (n int); INSERT INTO counter VALUES (1);',
      );
      const results = await Promise.all(
        Array.from({ length: 3 }, () =>
          runMigrations({ databaseUrl: target, dir, log: () => undefined }),
        ),
      );
      assert.equal(results.flat().length, 1);
      const check = createPool(poolConfig(target, { statementTimeoutMs: 30_000 }), () => undefined);
      const { rows } = await check.query<{ n: string }>('SELECT count(*) AS n FROM counter');
      await check.end();
      assert.equal(Number(rows[0]?.n), 1);
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('withIdempotencyKey', () => {
  before(async () => {
    await pool.query(`CREATE TABLE idempotency_keys (
      scope text NOT NULL, key text NOT NULL, fingerprint text NOT NULL, response_status integer NOT NULL,
      response_body jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now(), expires_at timestamptz NOT NULL,
      PRIMARY KEY (scope, key))`);
    await pool.query('CREATE TABLE effects (key text NOT NULL)');
  });
  const toProblem = (err: AppError) => ({ status: err.status, body: { code: err.code } });
  const options = (key: string, fingerprint = 'f1') => ({
    scope: 'user-1',
    key,
    fingerprint,
    ttlMs: 86_400_000,
  });

  it('runs the work once and replays its reply', async () => {
    const work = async (client: { query: Pool['query'] }) => {
      await client.query('INSERT INTO effects VALUES ($1)', ['k1']);
      return { status: 201, body: { ok: true } };
    };
    const first = await withIdempotencyKey(pool, options('k1'), work, toProblem);
    const second = await withIdempotencyKey(pool, options('k1'), work, toProblem);
    assert.deepEqual(first, { status: 201, body: { ok: true }, replayed: false });
    assert.deepEqual(second, { status: 201, body: { ok: true }, replayed: true });
    const { rowCount } = await pool.query("SELECT 1 FROM effects WHERE key = 'k1'");
    assert.equal(rowCount, 1);
  });

  it('stores an AppError as its reply and rolls back the work it did', async () => {
    const work = async (client: { query: Pool['query'] }) => {
      await client.query('INSERT INTO effects VALUES ($1)', ['k2']);
      throw new AppError('DOWN', 'down', 502);
    };
    const first = await withIdempotencyKey(pool, options('k2'), work, toProblem);
    const second = await withIdempotencyKey(pool, options('k2'), work, toProblem);
    assert.deepEqual(first, { status: 502, body: { code: 'DOWN' }, replayed: false });
    assert.equal(second.replayed, true);
    const { rowCount } = await pool.query("SELECT 1 FROM effects WHERE key = 'k2'");
    assert.equal(rowCount, 0);
  });

  it('refuses the key with another fingerprint', async () => {
    const work = () => Promise.resolve({ status: 200, body: {} });
    await withIdempotencyKey(pool, options('k3', 'a'), work, toProblem);
    await assert.rejects(
      withIdempotencyKey(pool, options('k3', 'b'), work, toProblem),
      (err: unknown) => {
        assert.ok(err instanceof AppError);
        assert.equal(err.code, 'IDEMPOTENCY_KEY_REUSED');
        assert.equal(err.status, 422);
        return true;
      },
    );
  });

  it('does not store unexpected errors, so the request can be retried', async () => {
    await assert.rejects(
      withIdempotencyKey(pool, options('k4'), () => Promise.reject(new Error('bug')), toProblem),
      /bug/,
    );
    const retried = await withIdempotencyKey(
      pool,
      options('k4'),
      () => Promise.resolve({ status: 201, body: {} }),
      toProblem,
    );
    assert.equal(retried.replayed, false);
  });

  it('fingerprints the body regardless of key order', () => {
    assert.equal(
      requestFingerprint('POST', '/x', { a: 1, b: [1, { c: 2, d: 3 }] }),
      requestFingerprint('POST', '/x', { b: [1, { d: 3, c: 2 }], a: 1 }),
    );
    assert.notEqual(
      requestFingerprint('POST', '/x', { a: 1 }),
      requestFingerprint('POST', '/x', { a: 2 }),
    );
  });
});
