// `nx run user-service:migrate`: applies pending migrations to DATABASE_URL and exits (1 with the
// database's error when they cannot be applied).
import { migrateMain } from '@flotilla/db';
import { fileURLToPath } from 'node:url';

await migrateMain('user-service', fileURLToPath(new URL('./migrations', import.meta.url)));
