import { fileURLToPath } from 'node:url';
import { loadConfigOrExit } from '@flotilla/config';
import { runService } from '@flotilla/runtime';
import { createApp } from './app.ts';
import { configSchema } from './config.ts';
import { SERVICE_NAME, createDependencies } from './dependencies.ts';

await runService({
  name: SERVICE_NAME,
  config: loadConfigOrExit(SERVICE_NAME, configSchema),
  migrationsDir: fileURLToPath(new URL('./migrations', import.meta.url)),
  createDependencies,
  createApp,
});
