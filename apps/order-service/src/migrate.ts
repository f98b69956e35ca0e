// `nx run order-service:migrate`: applies pending migrations to DATABASE_URL and exits.
import { loadConfigOrExit } from '@flotilla/config';
import { databaseConfigShape, runMigrations } from '@flotilla/db';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

const config = loadConfigOrExit(
  'order-service migrate',
  z.object({ DATABASE_URL: databaseConfigShape.DATABASE_URL }),
);
const applied = await runMigrations({
  databaseUrl: config.DATABASE_URL,
  dir: fileURLToPath(new URL('./migrations', import.meta.url)),
  log: (message) => process.stdout.write(`${message}\n`),
});
process.stdout.write(
  applied.length === 0 ? 'database is up to date\n' : `applied ${applied.length} migration(s)\n`,
);
