import { loadConfigOrExit } from '@flotilla/config';
import { runService } from '@flotilla/runtime';
import { upstreamAdminRoutes } from './admin.ts';
import { createApp } from './app.ts';
import { createMeshApp } from './mesh.ts';
import { configSchema } from './config.ts';
import { SERVICE_NAME, createDependencies } from './dependencies.ts';

await runService({
  name: SERVICE_NAME,
  config: loadConfigOrExit(SERVICE_NAME, configSchema),
  createDependencies,
  createApp,
  adminRoutes: (app, deps) => upstreamAdminRoutes(app, deps),
  listeners: (deps) =>
    deps.config.MESH_PORT === undefined
      ? []
      : [
          {
            name: 'mesh',
            port: deps.config.MESH_PORT,
            host: deps.config.MESH_HOST,
            handler: createMeshApp(deps),
          },
        ],
});
