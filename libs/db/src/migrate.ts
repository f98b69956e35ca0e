import { loadConfigOrExit } from '@flotilla/config';
import { runner } from 'node-pg-migrate';
import { z } from 'zod';
import { databaseConfigShape } from './config.ts';

export interface MigrateOptions {
  databaseUrl: string;
  /** Folder of numbered `.sql` files (`001_create_users.sql`), applied in order, forward only. */
  dir: string;
  /** One line per applied migration. */
  log: (message: string) => void;
  /**
   * How long to wait for the database to accept the connection; without it an unreachable server
   * keeps a migration (and a release's migration Job) waiting for the operating system's TCP
   * timeout. `DB_CONNECTION_TIMEOUT_MS` in the services.
   */
  connectionTimeoutMs?: number;
}

/**
 * Applies pending SQL migrations in one transaction, under an advisory lock so that replicas
 * starting together do not race (the others wait). Returns the names applied; rejects with the
 * database's own error (connection refused or timed out, a failing statement).
 */
export async function runMigrations({
  databaseUrl,
  dir,
  log,
  connectionTimeoutMs,
}: MigrateOptions): Promise<string[]> {
  const applied = await runner({
    databaseUrl: { connectionString: databaseUrl, connectionTimeoutMillis: connectionTimeoutMs },
    dir,
    direction: 'up',
    migrationsTable: 'schema_migrations',
    checkOrder: true,
    singleTransaction: true,
    advisoryLockMode: 'wait',
    log: () => undefined,
    // Its connection error is logged with a full inspect(); the rejection carries the message.
    logger: {
      debug: () => undefined,
      info: () => undefined,
      warn: log,
      error: (message) => {
        if (!message.startsWith('could not connect to postgres')) log(message);
      },
    },
  });
  for (const migration of applied) log(`applied migration ${migration.name}`);
  return applied.map((migration) => migration.name);
}

/**
 * The `migrate` entry point of a service (`nx run <service>:migrate`, the chart's migration Job,
 * compose's migration jobs): applies the migrations in `dir` to `DATABASE_URL`, waiting at most
 * `DB_CONNECTION_TIMEOUT_MS` for the connection. Exits 1 with the database's error when it fails.
 */
export async function migrateMain(service: string, dir: string): Promise<void> {
  const config = loadConfigOrExit(
    `${service} migrate`,
    z.object({
      DATABASE_URL: databaseConfigShape.DATABASE_URL,
      DB_CONNECTION_TIMEOUT_MS: databaseConfigShape.DB_CONNECTION_TIMEOUT_MS,
    }),
  );
  try {
    const applied = await runMigrations({
      databaseUrl: config.DATABASE_URL,
      dir,
      connectionTimeoutMs: config.DB_CONNECTION_TIMEOUT_MS,
      log: (message) => process.stdout.write(`${message}\n`),
    });
    process.stdout.write(
      applied.length === 0
        ? 'database is up to date\n'
        : `applied ${applied.length} migration(s)\n`,
    );
  } catch (err) {
    process.stderr.write(`${service} migrate: migrations not applied: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}
