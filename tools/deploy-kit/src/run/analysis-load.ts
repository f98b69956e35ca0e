import { runLoad, type Report } from '@flotilla/loadgen';
import type { AnalysisSettings } from '../core/environment.ts';
import type { KitLoad } from '../core/ledger.ts';

/** The kit's own traffic for one analysis step, started and stopped by the runner. */
export interface AnalysisLoad {
  start(step: { weight: number; windowMs: number }): { stop(): Promise<KitLoad> };
}

/**
 * The most iterations a second the kit sends on its own: a bound on what a release adds to the
 * system it judges (each iteration is a purchase across three services and their databases).
 */
export const MAX_LOAD_RATE = 30;

/**
 * The rate that gives the new version `2 x minRequests` requests per window at its weight (each
 * iteration reaches the service once or more), within 1..{@link MAX_LOAD_RATE} a second.
 */
export function loadRate(
  settings: Pick<AnalysisSettings, 'minRequests'>,
  step: { weight: number; windowMs: number },
  fixed?: number,
): number {
  if (fixed !== undefined) return fixed;
  const share = Math.max(step.weight, 1) / 100;
  const perSecond = (2 * settings.minRequests) / ((step.windowMs / 1000) * share);
  return Math.min(MAX_LOAD_RATE, Math.max(1, Math.ceil(perSecond)));
}

/**
 * The load generator's purchase flow through the gateway, by weight (the gateway splits it as it
 * splits everyone's traffic), with the kit's credential so that the limiter lets it through.
 */
export function gatewayAnalysisLoad(
  settings: AnalysisSettings,
  target: { url: string; headers: Record<string, string> },
): AnalysisLoad | undefined {
  const load = settings.load;
  if (!load) return undefined;
  return {
    start(step) {
      const rate = loadRate(settings, step, load.rate);
      const controller = new AbortController();
      const report: Promise<Report> = runLoad(
        {
          target: target.url,
          rate,
          // Stopped by the runner at the step's end; the bound keeps a lost stop from running on.
          durationMs: 60 * 60 * 1000,
          mix: load.mix,
          users: load.users,
          concurrency: 64,
          minSuccess: 0,
        },
        { signal: controller.signal, headers: target.headers },
      );
      // Handled at stop(); until then a failed start must not be an unhandled rejection.
      report.catch(() => undefined);
      return {
        async stop() {
          controller.abort();
          try {
            const result = await report;
            return { rate, requests: result.requests.completed, failed: result.requests.failed };
          } catch (err) {
            // No load user could log in: the step is judged on the traffic there was.
            return { rate, requests: 0, failed: 0, error: (err as Error).message };
          }
        },
      };
    },
  };
}
