import { createServiceApp } from '@flotilla/http';
import type { Express } from 'express';
import { Counter } from 'prom-client';
import type { Dependencies } from './dependencies.ts';
import { openApiDocument } from './openapi.ts';
import { paymentsRoutes } from './payments/payments.routes.ts';
import { createPaymentsService } from './payments/payments.service.ts';

export type AppDeps = Omit<Dependencies, 'resources'>;

/** payment-service's HTTP app. Never listens and never reads the environment. */
export function createApp(deps: AppDeps): Express {
  const { config, metrics } = deps;
  const payments = createPaymentsService({
    db: deps.db,
    processor: deps.processor,
    idempotencyTtlMs: config.IDEMPOTENCY_KEY_TTL_HOURS * 3_600_000,
    paymentsCounter: new Counter({
      name: 'payments_total',
      help: 'Charges made, by outcome',
      labelNames: ['status'] as const,
      registers: [metrics.registry],
    }),
  });
  return createServiceApp({
    logger: deps.logger,
    bodyLimit: config.BODY_LIMIT,
    metricsMiddleware: metrics.httpMiddleware,
    faultMiddleware: deps.faults.middleware,
    systemRoutes: [deps.health, metrics],
    openApi: openApiDocument,
    routes: (app) => app.use(paymentsRoutes(payments, deps.verifier)),
  });
}
