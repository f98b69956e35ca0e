// A service as the kit makes it, with one trivial route: request logging at info (to stdout),
// metrics, security headers, request ids, the fault middleware and the health router, exactly as
// createServiceApp wires them for every service.
//   node kit.ts <port>
import { createFaults, faultSettingsOf } from '@flotilla/faults';
import { createHealth } from '@flotilla/health';
import { createHttpServer, createServiceApp, listen } from '@flotilla/http';
import { createLogger } from '@flotilla/logging';
import { createMetrics } from '@flotilla/metrics';

const logger = createLogger({ service: 'bench-kit', level: 'info' });
const metrics = createMetrics({ service: 'bench-kit' });
const health = createHealth({ checks: [] });
const faults = createFaults(
  faultSettingsOf({ FAULT_ERROR_RATE: 0, FAULT_LATENCY_MS: 0, FAULT_READINESS_FAIL: false }),
  { logger },
);
const app = createServiceApp({
  logger,
  bodyLimit: '100kb',
  metricsMiddleware: metrics.httpMiddleware,
  faultMiddleware: faults.middleware,
  systemRoutes: [health, metrics],
  routes: (routes) => {
    routes.get('/hello', (_req, res) => {
      res.json({ hello: 'world' });
    });
  },
});
const server = createHttpServer(app);
await listen(server, Number(process.argv[2]), '127.0.0.1');
process.once('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
