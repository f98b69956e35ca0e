import { formatDuration } from './options.ts';
import { formatMix, type Mix, type StepName } from './scenarios.ts';

/** The live view, once a second: the load requests that finished during the last second. */
export interface LiveSummary {
  elapsedMs: number;
  /** Load requests finished per second over the window. */
  rate: number;
  /** Null when none finished in the window. */
  successPercent: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  inFlight: number;
  /** Since the start. */
  dropped: number;
}

export interface LatencyMs {
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
}

export interface StepReport {
  count: number;
  succeeded: number;
  failed: number;
  /** Count per HTTP status code, or per `timeout`, `connection` or `error`. */
  statusCodes: Record<string, number>;
  latencyMs: LatencyMs;
}

/** The outcome of a run; what `--json` prints and what runLoad resolves to. */
export interface Report {
  runId: string;
  target: string;
  settings: {
    rate: number;
    durationMs: number;
    mix: Mix;
    users: number;
    concurrency: number;
    timeoutMs: number;
    minSuccess: number;
  };
  /** Users that registered (or existed) and logged in. */
  usersReady: number;
  /** The load phase, from the first arrival until the last request finished. */
  elapsedMs: number;
  /** True when stopped early (Ctrl-C, or the caller's abort signal). */
  aborted: boolean;
  requests: {
    /** Arrivals the schedule planned: rate x duration. */
    scheduled: number;
    started: number;
    /** Arrivals not started because `concurrency` requests were already in flight. */
    dropped: number;
    completed: number;
    succeeded: number;
    failed: number;
  };
  /** Load requests finished per second of the load phase. */
  achievedRate: number;
  /** Succeeded out of completed load requests, setup excluded; null when none completed. */
  successPercent: number | null;
  /** True when successPercent is at least settings.minSuccess. */
  passed: boolean;
  /** Latency of the load requests, failed ones included (a timeout counts its full wait). */
  latencyMs: LatencyMs;
  steps: Partial<Record<StepName, StepReport>>;
  /** Count per status of the load requests. */
  statusCodes: Record<string, number>;
  /** Count per `step: reason` of the failed load requests. */
  failures: Record<string, number>;
}

const ms = (value: number | null) => (value === null ? '-' : value.toFixed(1));
const percent = (value: number | null) => (value === null ? '-' : `${value.toFixed(1)}%`);

/** One live line: `[  3s]  20.0 req/s  ok 100.0%  p50 12.3 ms  p99 40.1 ms  in-flight 1`. */
export function formatLive(s: LiveSummary): string {
  const seconds = `${Math.round(s.elapsedMs / 1000)}s`.padStart(4);
  return [
    `[${seconds}]`,
    `${s.rate.toFixed(1).padStart(6)} req/s`,
    `ok ${percent(s.successPercent).padStart(6)}`,
    `p50 ${ms(s.p50Ms).padStart(7)} ms`,
    `p99 ${ms(s.p99Ms).padStart(7)} ms`,
    `in-flight ${s.inFlight}`,
    ...(s.dropped > 0 ? [`dropped ${s.dropped}`] : []),
  ].join('  ');
}

/** The line printed once the users are ready and the load starts. */
export function formatStart(info: {
  runId: string;
  target: string;
  usersReady: number;
  users: number;
  rate: number;
  durationMs: number;
  scheduled: number;
  mix: Mix;
}): string {
  return (
    `loadgen run ${info.runId}: ${info.usersReady}/${info.users} users ready; ` +
    `${info.rate} req/s for ${formatDuration(info.durationMs)} (${info.scheduled} iterations), ` +
    `mix ${formatMix(info.mix)}, against ${info.target}`
  );
}

const counts = (record: Record<string, number>) =>
  Object.entries(record)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, count]) => `${key} x ${count}`)
    .join(', ') || '-';

/** The final report as text for a terminal. */
export function formatReport(r: Report): string {
  const { requests } = r;
  const verdict =
    r.successPercent === null
      ? `FAIL  no load request completed`
      : `${r.passed ? 'PASS' : 'FAIL'}  success ${r.successPercent.toFixed(2)}% ` +
        `(${requests.succeeded} of ${requests.completed}) ${r.passed ? '>=' : '<'} ` +
        `${r.settings.minSuccess}%`;
  const header = ['step', 'count', 'ok', 'failed', 'p50 ms', 'p99 ms', 'max ms'];
  const rows = Object.entries(r.steps).map(([name, step]) => [
    name,
    String(step.count),
    String(step.succeeded),
    String(step.failed),
    ms(step.latencyMs.p50),
    ms(step.latencyMs.p99),
    ms(step.latencyMs.max),
  ]);
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((row) => row[i]?.length ?? 0)),
  );
  const table = [header, ...rows].map(
    (row) =>
      '  ' +
      row
        .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
        .join('  '),
  );
  return [
    `loadgen report: run ${r.runId} against ${r.target}${r.aborted ? ' (stopped early)' : ''}`,
    `  result    ${verdict}`,
    `  requests  ${requests.scheduled} scheduled, ${requests.started} started, ` +
      `${requests.dropped} dropped, ${requests.completed} completed in ` +
      `${(r.elapsedMs / 1000).toFixed(1)} s`,
    `  rate      ${r.achievedRate.toFixed(1)} req/s achieved, ${r.settings.rate} req/s target`,
    `  latency   p50 ${ms(r.latencyMs.p50)} ms, p90 ${ms(r.latencyMs.p90)} ms, ` +
      `p99 ${ms(r.latencyMs.p99)} ms, max ${ms(r.latencyMs.max)} ms`,
    `  users     ${r.usersReady} of ${r.settings.users} ready`,
    '',
    ...table,
    '',
    `  status    ${counts(r.statusCodes)}`,
    `  failures  ${counts(r.failures)}`,
  ].join('\n');
}
