import {
  gatewayP99Latency,
  gatewayRequestRate,
  gatewaySuccessRate,
  type Window,
} from '@flotilla/promql';
import type { AnalysisSource, Measured } from '../platforms/platform.ts';

/** One instant query; undefined when the result is empty or not a number (no traffic). */
export async function queryScalar(
  baseUrl: string,
  promql: string,
  time: number,
): Promise<number | undefined> {
  const url = new URL('/api/v1/query', baseUrl);
  url.searchParams.set('query', promql);
  url.searchParams.set('time', String(time / 1000));
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const body = (await res.json()) as {
    status: string;
    error?: string;
    data?: { result: { value: [number, string] }[] };
  };
  if (!res.ok || body.status !== 'success') {
    throw new Error(`Prometheus refused ${promql}: ${body.error ?? res.status}`);
  }
  const value = Number(body.data?.result[0]?.value[1]);
  return Number.isFinite(value) ? value : undefined;
}

/**
 * Reads the new version's traffic from Prometheus with the queries of `@flotilla/promql`, the
 * ones the charts' AnalysisTemplate runs: success rate and p99 at the gateway over the window.
 */
export function prometheusSource(baseUrl: string, now: () => number = Date.now): AnalysisSource {
  return {
    begin(service, label) {
      return Promise.resolve({ service, label, from: now() });
    },
    async end(mark): Promise<Measured> {
      const { service, label, from } = mark as { service: string; label: string; from: number };
      const at = now();
      const seconds = Math.max(1, Math.round((at - from) / 1000));
      const selection = { upstream: service, version: label, window: `${seconds}s` as Window };
      const rate = await queryScalar(baseUrl, gatewayRequestRate(selection), at);
      const requests = Math.round((rate ?? 0) * seconds);
      return {
        requests,
        successRate:
          requests > 0 ? await queryScalar(baseUrl, gatewaySuccessRate(selection), at) : undefined,
        p99Seconds:
          requests > 0 ? await queryScalar(baseUrl, gatewayP99Latency(selection), at) : undefined,
      };
    },
  };
}
