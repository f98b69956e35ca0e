import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuSeconds } from './cpu-time.ts';
import type { Fixture } from './fixture.ts';
import type { Goal, Pair, Scenario, Target } from './scenarios.ts';
import { median, roundOrder } from './stats.ts';
import { load, type LoadResult } from './wrk.ts';

export interface RunSettings {
  rounds: number;
  /** Length of each measurement, per side and round. */
  seconds: number;
  /** Load before the first round, per side, not measured (JIT, caches, connection pools). */
  warmupSeconds: number;
  connections: number;
  cpus: { load?: number; servers?: number };
}

export interface SideSummary {
  label: string;
  /** Medians over the rounds. */
  rps: number;
  p50: number;
  p99: number;
  /** CPU time of the serving processes per request, in µs. */
  cpuPerRequestUs: number;
  requests: number;
}

/** A wrk run and the CPU the serving processes used for it. */
interface Measured extends LoadResult {
  cpuPerRequestUs: number;
}

export interface ScenarioResult {
  id: string;
  title: string;
  mode: Scenario['mode'];
  goal?: Goal;
  /** Throughput: the median of the rounds' A/B ratios of req/s. Latency: the median added p99 in ms. */
  value: number;
  /** Each round's ratio (or added p99), in order. */
  rounds: number[];
  /**
   * The same ratio from CPU time per request (B's over A's), median of the rounds: what the
   * throughput ratio would be on a core of its own. Steadier than req/s on a busy machine.
   */
  cpuRatio: number;
  cpuRounds: number[];
  a: SideSummary;
  b: SideSummary;
  /** Latency mode: the paced rate, and the most sockets the proxy held to its upstream. */
  rate?: number;
  maxUpstreamSockets?: number;
  poolSize?: number;
  met: boolean | undefined;
  problems: string[];
}

/** Does `value` meet `goal`? Undefined when there is no goal. */
export function meets(goal: Goal | undefined, value: number): boolean | undefined {
  if (!goal) return undefined;
  return goal.kind === 'ratio' ? value >= goal.min : value <= goal.maxMs;
}

/** Runs one scenario: warm-up, then `rounds` rounds of A and B in alternating order. */
export async function runScenario(
  scenario: Scenario,
  fixture: Fixture,
  settings: RunSettings,
  log: (line: string) => void = () => undefined,
): Promise<ScenarioResult> {
  const pair = await scenario.pair(fixture);
  const problems: string[] = [];
  const measure = async (target: Target, seconds: number, rate?: number): Promise<Measured> => {
    const cpuBefore = cpuSeconds(target.pids);
    const result = await load({
      url: target.url,
      seconds,
      connections: settings.connections,
      ...(target.headers ? { headers: target.headers } : {}),
      ...(rate !== undefined ? { rate } : {}),
      cpu: settings.cpus.load,
    });
    const cpu = cpuSeconds(target.pids) - cpuBefore;
    return { ...result, cpuPerRequestUs: result.requests > 0 ? (cpu * 1e6) / result.requests : 0 };
  };
  const logsBefore = pair.loggedRequests?.() ?? 0;
  let aRequests = 0;
  const checked = (side: 'a' | 'b', result: Measured) => {
    if (result.errors > 0)
      problems.push(`${pair[side].label}: ${result.errors} errors or non-2xx answers`);
    if (side === 'a') aRequests += result.requests;
    return result;
  };

  for (const side of ['a', 'b'] as const)
    checked(side, await measure(pair[side], settings.warmupSeconds));

  let rate: number | undefined;
  if (scenario.mode === 'latency') {
    const max = checked('a', await measure(pair.a, Math.max(2, settings.seconds)));
    rate = Math.round(max.rps / 2);
    log(`  ${pair.a.label} answers at most ${Math.round(max.rps)} req/s: paced at ${rate} req/s`);
  }

  const results: { a: Measured[]; b: Measured[] } = { a: [], b: [] };
  const values: number[] = [];
  const cpuValues: number[] = [];
  let maxSockets = 0;
  for (let round = 0; round < settings.rounds; round++) {
    const got: Partial<Record<'a' | 'b', Measured>> = {};
    for (const side of roundOrder(round)) {
      const sampling = side === 'a' && pair.pool ? sampleSockets(pair.pool) : undefined;
      got[side] = checked(side, await measure(pair[side], settings.seconds, rate));
      if (sampling) maxSockets = Math.max(maxSockets, await sampling.stop());
    }
    const a = got.a as Measured;
    const b = got.b as Measured;
    results.a.push(a);
    results.b.push(b);
    const value = scenario.mode === 'latency' ? a.p99 - b.p99 : a.rps / b.rps;
    const cpuRatio = b.cpuPerRequestUs / a.cpuPerRequestUs;
    values.push(value);
    cpuValues.push(cpuRatio);
    const show = (m: Measured, label: string) =>
      `${label} ${Math.round(m.rps)} req/s p99 ${m.p99.toFixed(2)} ms ${Math.round(m.cpuPerRequestUs)} µs CPU/req`;
    log(
      `  round ${round + 1}: ${show(a, pair.a.label)} | ${show(b, pair.b.label)} | ` +
        (scenario.mode === 'latency'
          ? `added p99 ${value.toFixed(2)} ms`
          : `ratio ${value.toFixed(3)} (CPU ${cpuRatio.toFixed(3)})`),
    );
  }

  if (pair.loggedRequests) {
    // The last lines may still be in the service's buffer (written within 100 ms).
    await sleep(300);
    const lines = pair.loggedRequests() - logsBefore;
    if (lines < aRequests)
      problems.push(`${pair.a.label} logged ${lines} request lines for ${aRequests} requests`);
  }
  if (pair.pool && maxSockets > pair.pool.size)
    problems.push(`${maxSockets} upstream sockets, above the pool size of ${pair.pool.size}`);

  const value = median(values);
  return {
    id: scenario.id,
    title: scenario.title,
    mode: scenario.mode,
    ...(scenario.goal ? { goal: scenario.goal } : {}),
    value,
    rounds: values,
    cpuRatio: median(cpuValues),
    cpuRounds: cpuValues,
    a: summary(pair.a, results.a),
    b: summary(pair.b, results.b),
    ...(rate !== undefined ? { rate } : {}),
    ...(pair.pool ? { maxUpstreamSockets: maxSockets, poolSize: pair.pool.size } : {}),
    met: problems.length > 0 ? false : meets(scenario.goal, value),
    problems,
  };
}

function summary(target: Target, results: Measured[]): SideSummary {
  return {
    label: target.label,
    rps: median(results.map((r) => r.rps)),
    p50: median(results.map((r) => r.p50)),
    p99: median(results.map((r) => r.p99)),
    cpuPerRequestUs: median(results.map((r) => r.cpuPerRequestUs)),
    requests: results.reduce((sum, r) => sum + r.requests, 0),
  };
}

/** Counts the proxy's sockets to its upstream every 100 ms until stopped; returns the most seen. */
function sampleSockets(pool: NonNullable<Pair['pool']>): { stop(): Promise<number> } {
  let most = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      most = Math.max(most, upstreamSockets(pool.pid, pool.upstreamPort));
      await sleep(100);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return most;
    },
  };
}

/** Established TCP connections that process `pid` holds to `port` (from `ss -p`). */
export function upstreamSockets(pid: number, port: number): number {
  const out = execFileSync('ss', ['-Htnp', 'state', 'established', `( dport = :${port} )`], {
    encoding: 'utf8',
  });
  return out.split('\n').filter((line) => line.includes(`pid=${pid},`)).length;
}

/** The 1-minute load average, to judge how quiet the machine was. */
export function loadAverage(): number {
  return loadavg()[0] ?? 0;
}
