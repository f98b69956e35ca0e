import { runner } from 'node-pg-migrate';

export interface MigrateOptions {
  databaseUrl: string;
  /** Folder of numbered `.sql` files (`001_create_users.sql`), applied in order, forward only. */
  dir: string;
  /** One line per applied migration. */
  log: (message: string) => void;
}

/**
 * Applies pending SQL migrations in one transaction, under an advisory lock so that replicas
 * starting together do not race (the others wait). Returns the names applied.
 */
export async function runMigrations({ databaseUrl, dir, log }: MigrateOptions): Promise<string[]> {
  const applied = await runner({
    databaseUrl,
    dir,
    direction: 'up',
    migrationsTable: 'schema_migrations',
    checkOrder: true,
    singleTransaction: true,
    advisoryLockMode: 'wait',
    log: () => undefined,
    logger: { debug: () => undefined, info: () => undefined, warn: log, error: log },
  });
  for (const migration of applied) log(`applied migration ${migration.name}`);
  return applied.map((migration) => migration.name);
}
