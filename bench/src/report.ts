import type { ScenarioResult } from './run.ts';
import { fixed } from './stats.ts';

function goalText(result: ScenarioResult): string {
  const goal = result.goal;
  if (!goal) return '-';
  if (goal.kind === 'added-p99') return `<= ${goal.maxMs} ms`;
  return `>= ${goal.min}x${goal.stretch ? ` (stretch ${goal.stretch}x)` : ''}`;
}

function valueText(result: ScenarioResult): string {
  return result.mode === 'latency' ? `+${fixed(result.value, 2)} ms` : `${fixed(result.value, 3)}x`;
}

function side(s: ScenarioResult['a']): string {
  return `${s.label} ${Math.round(s.rps)} req/s, p50 ${fixed(s.p50, 2)} / p99 ${fixed(s.p99, 2)} ms, ${Math.round(s.cpuPerRequestUs)} µs CPU/req`;
}

/** The results as a Markdown table: one row per pair, the median over the rounds. */
export function formatTable(results: readonly ScenarioResult[]): string {
  const rows = results.map((r) => {
    const spread =
      r.rounds.length > 0
        ? `${fixed(Math.min(...r.rounds), 2)}-${fixed(Math.max(...r.rounds), 2)}`
        : '-';
    const verdict = r.met === undefined ? '' : r.met ? 'met' : 'NOT met';
    const extra =
      r.rate !== undefined
        ? `; at ${r.rate} req/s, upstream sockets <= ${r.maxUpstreamSockets} (pool ${r.poolSize})`
        : '';
    const cpu = r.mode === 'latency' ? '-' : `${fixed(r.cpuRatio, 3)}x`;
    return `| ${r.id} | ${valueText(r)} | ${spread} | ${cpu} | ${goalText(r)} | ${verdict} | ${side(r.a)} | ${side(r.b)}${extra} |`;
  });
  return [
    '| pair | median | rounds | by CPU/req | goal | | A | B |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}
