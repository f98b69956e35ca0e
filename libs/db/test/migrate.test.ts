import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import {
  createTestDatabase,
  resolveInfrastructure,
  type Infrastructure,
  type TestDatabase,
} from '@flotilla/testing';
import { runMigrations } from '../src/index.ts';

let infra: Infrastructure;
const databases: TestDatabase[] = [];
const dirs: string[] = [];

before(async () => {
  infra = await resolveInfrastructure();
});
after(async () => {
  for (const database of databases) await database.drop();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  await infra.stop();
});

/** An empty database and an empty migrations folder, both removed after the suite. */
async function scenario(): Promise<{ databaseUrl: string; dir: string }> {
  const database = await createTestDatabase(infra.databaseUrl, 'migrate');
  databases.push(database);
  const dir = await mkdtemp(join(tmpdir(), 'flotilla-migrations-test-'));
  dirs.push(dir);
  return { databaseUrl: database.url, dir };
}

async function migration(dir: string, name: string, sql: string): Promise<void> {
  await writeFile(join(dir, `${name}.sql`), `-- Up Migration\n${sql}\n`);
}

async function query<R extends pg.QueryResultRow>(url: string, sql: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(sql)).rows;
  } finally {
    await client.end();
  }
}

const recorded = async (url: string) =>
  (await query<{ name: string }>(url, 'SELECT name FROM schema_migrations ORDER BY id')).map(
    (row) => row.name,
  );

const tableExists = async (url: string, table: string) =>
  (
    await query<{ exists: boolean }>(
      url,
      `SELECT to_regclass('public.${table}') IS NOT NULL AS exists`,
    )
  )[0]?.exists;

const quiet = () => undefined;

describe('runMigrations', () => {
  it('applies the files in numeric order and returns their names', async () => {
    const { databaseUrl, dir } = await scenario();
    // Each file needs the one before it; "10" sorts before "2" as text, so text order would fail.
    await migration(
      dir,
      '10_insert_widget',
      "INSERT INTO widgets (name, colour) VALUES ('a', 'red');",
    );
    await migration(dir, '1_create_widgets', 'CREATE TABLE widgets (name text PRIMARY KEY);');
    await migration(dir, '2_add_colour', 'ALTER TABLE widgets ADD COLUMN colour text NOT NULL;');

    const applied = await runMigrations({ databaseUrl, dir, log: quiet });

    assert.deepEqual(applied, ['1_create_widgets', '2_add_colour', '10_insert_widget']);
    assert.deepEqual(await query(databaseUrl, 'SELECT name, colour FROM widgets'), [
      { name: 'a', colour: 'red' },
    ]);
  });

  it('records each applied migration in schema_migrations and logs it', async () => {
    const { databaseUrl, dir } = await scenario();
    await migration(dir, '001_create_a', 'CREATE TABLE a (id int);');
    await migration(dir, '002_create_b', 'CREATE TABLE b (id int);');
    const lines: string[] = [];

    await runMigrations({ databaseUrl, dir, log: (line) => lines.push(line) });

    assert.deepEqual(await recorded(databaseUrl), ['001_create_a', '002_create_b']);
    assert.deepEqual(lines, ['applied migration 001_create_a', 'applied migration 002_create_b']);
  });

  it('applies nothing on a second run', async () => {
    const { databaseUrl, dir } = await scenario();
    await migration(
      dir,
      '001_counter',
      'CREATE TABLE counter (n int); INSERT INTO counter VALUES (1);',
    );
    await runMigrations({ databaseUrl, dir, log: quiet });

    const again = await runMigrations({ databaseUrl, dir, log: quiet });

    assert.deepEqual(again, []);
    assert.deepEqual(await query(databaseUrl, 'SELECT n FROM counter'), [{ n: 1 }]);
  });

  it('applies only the files added since the last run', async () => {
    const { databaseUrl, dir } = await scenario();
    await migration(dir, '001_create_a', 'CREATE TABLE a (id int);');
    await runMigrations({ databaseUrl, dir, log: quiet });
    await migration(dir, '002_create_b', 'CREATE TABLE b (id int);');

    const applied = await runMigrations({ databaseUrl, dir, log: quiet });

    assert.deepEqual(applied, ['002_create_b']);
    assert.deepEqual(await recorded(databaseUrl), ['001_create_a', '002_create_b']);
  });

  it('rolls back every pending migration when one of them fails', async () => {
    const { databaseUrl, dir } = await scenario();
    await migration(dir, '001_create_a', 'CREATE TABLE a (id int);');
    await runMigrations({ databaseUrl, dir, log: quiet });
    await migration(dir, '002_create_b', 'CREATE TABLE b (id int);');
    await migration(dir, '003_broken', 'CREATE TABLE c (id int;');

    await assert.rejects(runMigrations({ databaseUrl, dir, log: quiet }), /syntax error/);

    assert.equal(await tableExists(databaseUrl, 'b'), false, '002 was rolled back with 003');
    assert.equal(await tableExists(databaseUrl, 'a'), true, 'the earlier run is kept');
    assert.deepEqual(await recorded(databaseUrl), ['001_create_a']);
  });

  it('applies the pending migrations once the broken one is fixed', async () => {
    const { databaseUrl, dir } = await scenario();
    await migration(dir, '001_create_a', 'CREATE TABLE a (id int);');
    await migration(dir, '002_broken', 'CREATE TABLE b (id int;');
    await assert.rejects(runMigrations({ databaseUrl, dir, log: quiet }));
    await migration(dir, '002_broken', 'CREATE TABLE b (id int);');

    const applied = await runMigrations({ databaseUrl, dir, log: quiet });

    assert.deepEqual(applied, ['001_create_a', '002_broken']);
  });

  it('refuses a new migration numbered before one already applied', async () => {
    const { databaseUrl, dir } = await scenario();
    await migration(dir, '001_create_a', 'CREATE TABLE a (id int);');
    await migration(dir, '003_create_c', 'CREATE TABLE c (id int);');
    await runMigrations({ databaseUrl, dir, log: quiet });
    await migration(dir, '002_create_b', 'CREATE TABLE b (id int);');

    await assert.rejects(
      runMigrations({ databaseUrl, dir, log: quiet }),
      /002_create_b is preceding already run migration 003_create_c/,
    );
    assert.equal(await tableExists(databaseUrl, 'b'), false);
  });

  it('lets concurrent runs apply each migration exactly once', async () => {
    const { databaseUrl, dir } = await scenario();
    // Slow enough that the runs overlap; without the lock the later ones fail on "already exists".
    await migration(
      dir,
      '001_counter',
      'SELECT pg_sleep(0.2); CREATE TABLE counter (n int); INSERT INTO counter VALUES (1);',
    );
    await migration(dir, '002_more', 'INSERT INTO counter VALUES (2);');

    const results = await Promise.all(
      Array.from({ length: 3 }, () => runMigrations({ databaseUrl, dir, log: quiet })),
    );

    assert.deepEqual(results.flat().sort(), ['001_counter', '002_more']);
    assert.equal(results.filter((names) => names.length > 0).length, 1, 'one run applied them');
    assert.deepEqual(await query(databaseUrl, 'SELECT n FROM counter ORDER BY n'), [
      { n: 1 },
      { n: 2 },
    ]);
  });
});

describe('runMigrations against a database that does not answer', () => {
  it(
    'gives up after the connection timeout with the connection error',
    { timeout: 10_000 },
    async () => {
      // Accepts TCP connections and never speaks: without a timeout the run would wait forever.
      const silent = createServer(() => undefined);
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const { port } = silent.address() as AddressInfo;
      const dir = await mkdtemp(join(tmpdir(), 'flotilla-migrations-test-'));
      dirs.push(dir);
      await migration(dir, '001_create_a', 'CREATE TABLE a (id int);');
      try {
        await assert.rejects(
          runMigrations({
            databaseUrl: `postgres://nobody@127.0.0.1:${port}/none`,
            dir,
            log: quiet,
            connectionTimeoutMs: 300,
          }),
          /timeout/i,
        );
      } finally {
        silent.close();
      }
    },
  );

  it('rejects with the refusal when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const dir = await mkdtemp(join(tmpdir(), 'flotilla-migrations-test-'));
    dirs.push(dir);

    await assert.rejects(
      runMigrations({ databaseUrl: `postgres://nobody@127.0.0.1:${port}/none`, dir, log: quiet }),
      /ECONNREFUSED/,
    );
  });
});

describe('migrateMain', () => {
  const entry = new URL('../src/index.ts', import.meta.url).href;
  const migrate = (env: Record<string, string>, dir: string) =>
    spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { migrateMain } from '${entry}'; await migrateMain('widget-service', ${JSON.stringify(dir)});`,
      ],
      { encoding: 'utf8', env: { PATH: process.env['PATH'], ...env }, timeout: 20_000 },
    );

  it('exits 1 naming the database error when the database does not answer in DB_CONNECTION_TIMEOUT_MS', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    const dir = await mkdtemp(join(tmpdir(), 'flotilla-migrations-test-'));
    dirs.push(dir);
    try {
      const result = migrate(
        {
          DATABASE_URL: `postgres://nobody@127.0.0.1:${port}/none`,
          DB_CONNECTION_TIMEOUT_MS: '300',
        },
        dir,
      );
      assert.equal(result.status, 1, result.stderr);
      assert.match(result.stderr, /widget-service migrate: migrations not applied: .*timeout/);
    } finally {
      silent.close();
    }
  });

  it('applies the migrations and says so', async () => {
    const { databaseUrl, dir } = await scenario();
    await migration(dir, '001_create_a', 'CREATE TABLE a (id int);');

    const result = migrate({ DATABASE_URL: databaseUrl }, dir);

    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /applied migration 001_create_a\napplied 1 migration\(s\)/);
    assert.deepEqual(await recorded(databaseUrl), ['001_create_a']);
  });
});
