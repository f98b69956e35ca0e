import type { StepName } from './scenarios.ts';

/**
 * The nearest-rank percentile (p in 0..100) of values sorted in ascending order: the smallest value
 * that at least p percent of the values are less than or equal to. Undefined for no values.
 */
export function percentile(sorted: ArrayLike<number>, p: number): number | undefined {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0..100, got ${p}`);
  if (sorted.length === 0) return undefined;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

export interface LatencySummary {
  count: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
}

/** Count, p50, p90, p99 and max of unsorted values; null when there are none. */
export function summarize(values: readonly number[]): LatencySummary {
  // A Float64Array sorts numerically, without a compare function.
  const sorted = Float64Array.from(values).sort();
  const at = (p: number) => percentile(sorted, p) ?? null;
  return { count: sorted.length, p50: at(50), p90: at(90), p99: at(99), max: at(100) };
}

/** One finished request. */
export interface Sample {
  step: StepName;
  /** The HTTP status code, or `timeout`, `connection` or `error` when there was no answer. */
  status: string;
  /** Undefined when the request had the expected outcome. */
  failure: string | undefined;
  latencyMs: number;
}

export interface StepTally {
  count: number;
  succeeded: number;
  latencies: number[];
  statusCodes: Map<string, number>;
}

export interface WindowTally {
  completed: number;
  succeeded: number;
  latencies: number[];
}

const increment = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);

/**
 * Running totals of a load run: per step, for the load requests as a whole (setup steps left out),
 * and for the current live window. Latencies are kept as plain arrays: 8 bytes a request, so an
 * hour at 100 req/s holds about 3 MB.
 */
export function createTally() {
  const steps = new Map<StepName, StepTally>();
  const load = {
    completed: 0,
    succeeded: 0,
    latencies: [] as number[],
    statusCodes: new Map<string, number>(),
    failures: new Map<string, number>(),
  };
  let window: WindowTally = { completed: 0, succeeded: 0, latencies: [] };

  return {
    steps,
    load,
    /** Records a finished request; `isLoad` is false for the setup steps. */
    record(sample: Sample, isLoad: boolean): void {
      let step = steps.get(sample.step);
      if (!step) {
        step = { count: 0, succeeded: 0, latencies: [], statusCodes: new Map() };
        steps.set(sample.step, step);
      }
      step.count++;
      step.latencies.push(sample.latencyMs);
      increment(step.statusCodes, sample.status);
      if (sample.failure === undefined) step.succeeded++;
      if (!isLoad) return;
      load.completed++;
      load.latencies.push(sample.latencyMs);
      increment(load.statusCodes, sample.status);
      window.completed++;
      window.latencies.push(sample.latencyMs);
      if (sample.failure === undefined) {
        load.succeeded++;
        window.succeeded++;
      } else {
        increment(load.failures, `${sample.step}: ${sample.failure}`);
      }
    },
    /** The load requests finished since the last call, and a fresh window. */
    takeWindow(): WindowTally {
      const taken = window;
      window = { completed: 0, succeeded: 0, latencies: [] };
      return taken;
    },
  };
}

export type Tally = ReturnType<typeof createTally>;
