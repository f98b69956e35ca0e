import { setTimeout as sleepFor } from 'node:timers/promises';
import { field } from '@flotilla/config';
import type { DependencyCheck } from '@flotilla/health';
import { defineErrors, validate } from '@flotilla/http';
import type { Logger } from '@flotilla/logging';
import type { Express, RequestHandler } from 'express';
import { z } from 'zod';

/** Fault keys of a service's config; all off by default. Spread into the service's schema. */
export const faultConfigShape = {
  FAULT_ERROR_RATE: z.coerce
    .number()
    .min(0)
    .max(100)
    .default(0)
    .describe('percent of API requests answered 503 FAULT_INJECTED (probes and metrics exempt)'),
  FAULT_LATENCY_MS: field.milliseconds(0, 'latency added to every API request', { max: 60_000 }),
  FAULT_READINESS_FAIL: field.boolean(false, 'make /ready answer 503'),
} as const;

/** The parsed keys of {@link faultConfigShape}. */
export interface FaultConfig {
  FAULT_ERROR_RATE: number;
  FAULT_LATENCY_MS: number;
  FAULT_READINESS_FAIL: boolean;
}

export interface FaultSettings {
  /** Percent (0-100) of API requests that fail with 503. */
  errorRatePercent: number;
  /** Added to every API request before it is handled. */
  latencyMs: number;
  /** Readiness reports `down` while true. */
  failReadiness: boolean;
}

const NO_FAULTS: FaultSettings = Object.freeze({
  errorRatePercent: 0,
  latencyMs: 0,
  failReadiness: false,
});

const settingsPatch = z
  .strictObject({
    errorRatePercent: z.number().min(0).max(100),
    latencyMs: z.number().int().min(0).max(60_000),
    failReadiness: z.boolean(),
  })
  .partial();

export const faultErrors = defineErrors({
  FAULT_INJECTED: {
    status: 503,
    message: 'Injected fault: this service is failing requests on purpose (fault flags).',
    expose: true,
  },
});

/** The settings a service starts with, from its config. */
export function faultSettingsOf(config: FaultConfig): FaultSettings {
  return {
    errorRatePercent: config.FAULT_ERROR_RATE,
    latencyMs: config.FAULT_LATENCY_MS,
    failReadiness: config.FAULT_READINESS_FAIL,
  };
}

export interface Faults {
  settings(): FaultSettings;
  /** Changes some settings; returns them all. */
  update(patch: Partial<FaultSettings>): FaultSettings;
  /** For `createServiceApp({ faultMiddleware })`: adds latency, then fails some requests. */
  readonly middleware: RequestHandler;
  /** A readiness check that is down while `failReadiness` is on. */
  readonly readinessCheck: DependencyCheck;
  /** `GET`, `PUT` (partial settings) and `DELETE` (all off) `/admin/faults` on an admin app. */
  adminRoutes(app: Express): void;
}

export interface FaultOptions {
  logger: Logger;
  /** Returns a number in [0, 1); decides which requests fail. */
  random?: () => number;
  sleep?: (ms: number) => Promise<unknown>;
}

/**
 * Fault flags for drills and for testing releases: an error rate, added latency and failing
 * readiness, set from config at start and changed at run time through the admin API. Probes and
 * metrics are never delayed or failed, so what a drill shows is what clients see.
 */
export function createFaults(
  initial: FaultSettings,
  { logger, random = Math.random, sleep = sleepFor }: FaultOptions,
): Faults {
  let current: FaultSettings = Object.freeze({ ...initial });
  const active = (s: FaultSettings) => s.errorRatePercent > 0 || s.latencyMs > 0 || s.failReadiness;
  if (active(current)) logger.warn({ faults: current }, 'fault injection is on');

  function update(patch: Partial<FaultSettings>): FaultSettings {
    current = Object.freeze({ ...current, ...patch });
    logger.warn({ faults: current }, active(current) ? 'fault flags changed' : 'fault flags off');
    return current;
  }

  return {
    settings: () => current,
    update,
    middleware: (_req, _res, next) => {
      const { latencyMs, errorRatePercent } = current;
      const fail = errorRatePercent > 0 && random() * 100 < errorRatePercent;
      const proceed = () => next(fail ? faultErrors.create('FAULT_INJECTED') : undefined);
      if (latencyMs > 0) sleep(latencyMs).then(proceed, next);
      else proceed();
    },
    readinessCheck: {
      name: 'fault-injection',
      check: () =>
        current.failReadiness
          ? Promise.reject(new Error('failing on purpose (failReadiness fault flag)'))
          : Promise.resolve(),
    },
    adminRoutes(app) {
      app.get('/admin/faults', (_req, res) => {
        res.json(current);
      });
      app.put('/admin/faults', (req, res) => {
        res.json(update(validate(settingsPatch, req.body, 'body')));
      });
      app.delete('/admin/faults', (_req, res) => {
        res.json(update(NO_FAULTS));
      });
    },
  };
}
