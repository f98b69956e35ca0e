import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Redis } from 'ioredis';
import { resolveInfrastructure, type ResolveOptions } from './infrastructure.ts';

/** A database of its own on a PostgreSQL server. */
export interface TestDatabase {
  readonly url: string;
  readonly name: string;
  drop(): Promise<void>;
}

/** Creates an empty database with a random name on the server behind `adminUrl`. */
export async function createTestDatabase(adminUrl: string, prefix = 'test'): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await withAdmin(adminUrl, (client) => client.query(`CREATE DATABASE "${name}"`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: async () => {
      await withAdmin(adminUrl, (client) =>
        client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
      );
    },
  };
}

/** Creates the database `name` unless it exists. */
export async function ensureDatabase(adminUrl: string, name: string): Promise<string> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`unsafe database name "${name}"`);
  await withAdmin(adminUrl, async (client) => {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount === 0) await client.query(`CREATE DATABASE "${name}"`);
  });
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function withAdmin<T>(adminUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** What a test suite gets: its own database and its own Redis key prefix. */
export interface TestInfrastructure {
  readonly databaseUrl: string;
  readonly redisUrl: string;
  readonly redisKeyPrefix: string;
  /** Drops the database, deletes the suite's Redis keys, and stops servers this suite started. */
  stop(): Promise<void>;
}

/**
 * Gives a test suite real PostgreSQL and Redis: the servers come from {@link resolveInfrastructure};
 * the suite gets a fresh database and a unique key prefix, so suites never see each other's data.
 */
export async function startTestInfrastructure(
  options: ResolveOptions = {},
): Promise<TestInfrastructure> {
  const infra = await resolveInfrastructure(options);
  try {
    const database = await createTestDatabase(infra.databaseUrl);
    const redisKeyPrefix = `${database.name}:`;
    return {
      databaseUrl: database.url,
      redisUrl: infra.redisUrl,
      redisKeyPrefix,
      async stop() {
        try {
          await database.drop();
          await deleteKeys(infra.redisUrl, redisKeyPrefix);
        } finally {
          await infra.stop();
        }
      },
    };
  } catch (err) {
    await infra.stop();
    throw err;
  }
}

async function deleteKeys(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
