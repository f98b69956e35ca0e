import { createServiceApp } from '@flotilla/http';
import type { Express } from 'express';
import { Counter } from 'prom-client';
import type { Dependencies } from './dependencies.ts';
import { openApiDocument } from './openapi.ts';
import { ordersRoutes } from './orders/orders.routes.ts';
import { createOrdersService } from './orders/orders.service.ts';
import { createRecovery } from './orders/recovery.ts';

export type AppDeps = Omit<Dependencies, 'resources'>;

/**
 * order-service's HTTP app and its recovery job (not started here: `main` starts it, tests run
 * rounds by hand). Never listens and never reads the environment.
 */
export function createOrderService(deps: AppDeps): {
  app: Express;
  recovery: ReturnType<typeof createRecovery>;
} {
  const { config, metrics } = deps;
  const orders = createOrdersService({
    db: deps.db,
    users: deps.users,
    payments: deps.payments,
    tokens: deps.tokens,
    logger: deps.logger,
    leaseMs: config.PAYMENT_LEASE_MS,
    retryDelayMs: config.RECOVERY_INTERVAL_MS,
    ordersCounter: new Counter({
      name: 'orders_total',
      help: 'Orders settled, by resulting status',
      labelNames: ['status'] as const,
      registers: [metrics.registry],
    }),
  });
  const recovery = createRecovery({
    db: deps.db,
    settle: (order) => orders.settle(order),
    logger: deps.logger,
    intervalMs: config.RECOVERY_INTERVAL_MS,
    leaseMs: config.PAYMENT_LEASE_MS,
    giveUpAfterMs: config.RECOVERY_GIVE_UP_AFTER_MS,
  });
  const app = createServiceApp({
    logger: deps.logger,
    bodyLimit: config.BODY_LIMIT,
    metricsMiddleware: metrics.httpMiddleware,
    faultMiddleware: deps.faults.middleware,
    systemRoutes: [deps.health, metrics],
    openApi: openApiDocument,
    routes: (a) => a.use(ordersRoutes(orders, deps.verifier)),
  });
  return { app, recovery };
}

/** The app alone, for the runtime. */
export function createApp(deps: Dependencies): Express {
  const { app, recovery } = createOrderService(deps);
  recovery.start();
  deps.resources.push({ name: 'recovery', close: () => recovery.stop() });
  return app;
}
