import type { AnalysisSettings } from './environment.ts';
import type { Figures } from './ledger.ts';

/** A Prometheus histogram at one moment: cumulative counts per upper bound, `+Inf` last. */
export interface Histogram {
  buckets: { le: number; count: number }[];
}

/** Requests of one version between two moments, counted as the gateway counts them. */
export interface Sample {
  /** Requests by status code. */
  statuses: Record<string, number>;
  /** The latency histogram's increase over the window. */
  latency: Histogram;
}

/**
 * The q-quantile of a histogram, as PromQL's `histogram_quantile` computes it: linear
 * interpolation inside the bucket the rank falls in; the highest finite bound when it falls in
 * `+Inf`. Undefined for an empty histogram.
 */
export function histogramQuantile(q: number, histogram: Histogram): number | undefined {
  const buckets = [...histogram.buckets].sort((a, b) => a.le - b.le);
  const total = buckets.at(-1)?.count ?? 0;
  if (total <= 0 || buckets.length < 2) return undefined;
  const rank = q * total;
  let index = buckets.findIndex((b) => b.count >= rank);
  if (index === -1) index = buckets.length - 1;
  const bucket = buckets[index]!;
  if (bucket.le === Infinity) return buckets[buckets.length - 2]!.le;
  const lowerBound = index === 0 ? 0 : buckets[index - 1]!.le;
  const lowerCount = index === 0 ? 0 : buckets[index - 1]!.count;
  const inBucket = bucket.count - lowerCount;
  if (inBucket <= 0) return bucket.le;
  return lowerBound + (bucket.le - lowerBound) * ((rank - lowerCount) / inBucket);
}

/** The difference of two cumulative samples: what happened between them. */
export function increase(before: Sample, after: Sample): Sample {
  const statuses: Record<string, number> = {};
  for (const [status, count] of Object.entries(after.statuses)) {
    const delta = count - (before.statuses[status] ?? 0);
    if (delta > 0) statuses[status] = delta;
  }
  return {
    statuses,
    latency: {
      buckets: after.latency.buckets.map((b) => ({
        le: b.le,
        count: b.count - (before.latency.buckets.find((x) => x.le === b.le)?.count ?? 0),
      })),
    },
  };
}

/** The figures of a measurement: requests, success rate and p99, from a sample's increase. */
export function figuresOf(sample: Sample): {
  requests: number;
  successRate: number | undefined;
  p99Seconds: number | undefined;
} {
  const requests = Object.values(sample.statuses).reduce((sum, n) => sum + n, 0);
  const failed = Object.entries(sample.statuses)
    .filter(([status]) => /^5\d\d$/.test(status))
    .reduce((sum, [, n]) => sum + n, 0);
  return {
    requests,
    successRate: requests > 0 ? (requests - failed) / requests : undefined,
    p99Seconds: histogramQuantile(0.99, sample.latency),
  };
}

const percent = (rate: number) => `${(rate * 100).toFixed(rate >= 0.9995 || rate === 0 ? 0 : 1)}%`;
const millis = (seconds: number) => `${Math.round(seconds * 1000)} ms`;

/**
 * Judges one measurement against the thresholds: too few requests is inconclusive (never a pass),
 * then the success rate and the p99 must both hold.
 */
export function judge(
  measured: Omit<Figures, 'verdict' | 'reason'> & { requests: number },
  thresholds: Pick<AnalysisSettings, 'minRequests' | 'minSuccessRate' | 'maxP99Seconds'>,
): Figures {
  if (measured.requests < thresholds.minRequests || measured.successRate === undefined) {
    return {
      ...measured,
      verdict: 'inconclusive',
      reason: `${measured.requests} requests < ${thresholds.minRequests} needed to judge`,
    };
  }
  const problems: string[] = [];
  if (measured.successRate < thresholds.minSuccessRate) {
    problems.push(
      `success ${percent(measured.successRate)} < ${percent(thresholds.minSuccessRate)}`,
    );
  }
  if (measured.p99Seconds !== undefined && measured.p99Seconds > thresholds.maxP99Seconds) {
    problems.push(`p99 ${millis(measured.p99Seconds)} > ${millis(thresholds.maxP99Seconds)}`);
  }
  if (problems.length > 0) return { ...measured, verdict: 'failed', reason: problems.join(', ') };
  return {
    ...measured,
    verdict: 'passed',
    reason:
      `success ${percent(measured.successRate)} >= ${percent(thresholds.minSuccessRate)}` +
      (measured.p99Seconds === undefined
        ? ''
        : `, p99 ${millis(measured.p99Seconds)} <= ${millis(thresholds.maxP99Seconds)}`),
  };
}

/**
 * What the measurements of one step say: passed once one passes; failed when one fails past
 * `failureLimit` (counted over the release) or when inconclusive more than `inconclusiveLimit`
 * times in a row; otherwise measure again.
 */
export function stepVerdict(
  measurements: readonly Figures[],
  failuresSoFar: number,
  limits: Pick<AnalysisSettings, 'inconclusiveLimit' | 'failureLimit'>,
): 'passed' | 'failed' | 'again' {
  const last = measurements.at(-1);
  if (!last) return 'again';
  if (last.verdict === 'passed') return 'passed';
  if (last.verdict === 'failed') return failuresSoFar > limits.failureLimit ? 'failed' : 'again';
  let inARow = 0;
  for (const m of [...measurements].reverse()) {
    if (m.verdict !== 'inconclusive') break;
    inARow++;
  }
  return inARow > limits.inconclusiveLimit ? 'failed' : 'again';
}
