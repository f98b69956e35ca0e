import { createServer } from 'node:http';
import { loadConfigOrExit } from '@flotilla/config';
import { listen } from '@flotilla/http';
import { runService } from '@flotilla/runtime';
import { createAdminApp } from './admin.ts';
import { createApp } from './app.ts';
import { configSchema } from './config.ts';
import { SERVICE_NAME, createDependencies } from './dependencies.ts';

const config = loadConfigOrExit(SERVICE_NAME, configSchema);
const { deps, logger } = await runService({
  name: SERVICE_NAME,
  config,
  createDependencies,
  createApp,
});

if (config.ADMIN_TOKEN) {
  const admin = createServer(
    createAdminApp({ upstreams: deps.upstreams, token: config.ADMIN_TOKEN, logger }),
  );
  const port = await listen(admin, config.ADMIN_PORT, config.ADMIN_HOST);
  logger.info({ port, host: config.ADMIN_HOST }, 'admin API listening');
  process.once('SIGTERM', () => admin.close());
  process.once('SIGINT', () => admin.close());
} else {
  logger.warn('ADMIN_TOKEN is not set: the admin API (traffic weights) is off');
}
