import { formatDuration } from '@flotilla/loadgen';
import type { Figures, ReleaseRecord } from './ledger.ts';
import type { Plan, ReleasePlan, Step } from './plan.ts';

const pct = (rate: number | undefined) =>
  rate === undefined ? '-' : `${(rate * 100).toFixed(1)}%`;
const ms = (seconds: number | undefined) =>
  seconds === undefined ? '-' : `${Math.round(seconds * 1000)} ms`;

/** One step as a plan line: `shift     10% of traffic to abc-r7`. */
export function describeStep(step: Step, plan: ReleasePlan): string {
  const detail =
    step.kind === 'ready'
      ? ` (${formatDuration(step.timeoutMs)} at most)`
      : step.kind === 'smoke'
        ? plan.service === 'gateway'
          ? ' through the new gateway'
          : ' through the gateway, pinned to it'
        : step.kind === 'analyse'
          ? `: ${formatDuration(step.pauseMs)}, the last ${formatDuration(step.windowMs)} measured`
          : step.kind === 'hold'
            ? ` for ${formatDuration(step.ms)}, measured every ${formatDuration(step.windowMs)}`
            : '';
  return `${step.kind.padEnd(8)} ${step.title}${detail}`;
}

/** The plan as a person reads it: what will start, each traffic step, the gates, the way back. */
export function formatPlan(plan: Plan): string {
  if (plan.kind === 'refused') {
    return [
      `${plan.service} to ${plan.environment}: refused`,
      ...plan.refusals.map((r) => `  ✗ ${r.gate}: ${r.message}`),
    ].join('\n');
  }
  if (plan.kind === 'nothing')
    return `${plan.service} to ${plan.environment}: nothing to do (${plan.reason})`;
  const a = plan.analysis;
  const lines = [
    `Release plan: ${plan.service} to ${plan.environment} (platform ${plan.platform})`,
    `  version    ${plan.artefact.version}  (revision ${plan.revision}, label ${plan.label})`,
    `  now runs   ${plan.stable ? `${plan.stable.label} (${plan.stable.version})` : 'nothing'}`,
    `  strategy   ${plan.strategy}`,
    `  analysis   from ${a.source === 'gateway' ? "the gateway's /metrics" : `Prometheus ${a.prometheusUrl ?? ''}`}: success >= ${pct(a.minSuccessRate)}, p99 <= ${ms(a.maxP99Seconds)}, at least ${a.minRequests} requests a measurement; ${a.inconclusiveLimit} inconclusive in a row and ${a.failureLimit} failed allowed`,
  ];
  const hasAnalysis = plan.steps.some((s) => s.kind === 'analyse' || s.kind === 'hold');
  if (a.load && hasAnalysis) {
    const mix = Object.entries(a.load.mix)
      .map(([name, weight]) => `${name} ${weight}`)
      .join(', ');
    lines.push(
      `  load       the kit's own during each analysis: the purchase flow (${mix}) through the gateway by weight, ${a.load.rate === undefined ? `aiming at ${2 * a.minRequests} requests a window` : `${a.load.rate}/s`}`,
    );
  }
  if (plan.recover) {
    lines.push(
      `  first      undo the unfinished release r${plan.recover.revision} (${plan.recover.label}, by ${plan.recover.by}): traffic back to ${plan.recover.previous?.label ?? 'the old version'}, its new version stopped`,
    );
  }
  lines.push('', '  gates', ...plan.gates.map((g) => `    ✓ ${g}`), '', '  steps');
  plan.steps.forEach((step, i) =>
    lines.push(`    ${String(i + 1).padStart(2)}. ${describeStep(step, plan)}`),
  );
  lines.push(
    '',
    `  on failure   all traffic back to ${plan.stable?.label ?? 'the old version'}, then ${plan.label} stopped (automatic)`,
    `  roll back    ${plan.rollback}`,
  );
  return lines.join('\n');
}

/** One measurement on one line: `10%  212 req  99.5%  p99 41 ms  passed`. */
export function formatFigures(f: Figures): string {
  return `${String(f.weight).padStart(3)}%  ${String(f.requests ?? '-').padStart(5)} req  success ${pct(f.successRate).padStart(6)}  p99 ${ms(f.p99Seconds).padStart(7)}  ${f.verdict}`;
}

/** The measured steps of a release: one row per measurement. */
export function analysisRows(release: ReleaseRecord): (Figures & { step: string })[] {
  return release.steps.flatMap((s) => (s.figures ?? []).map((f) => ({ ...f, step: s.title })));
}

const RESULT_WORDS: Record<ReleaseRecord['result'], string> = {
  'in-progress': 'IN PROGRESS',
  released: 'RELEASED',
  'rolled-back': 'ROLLED BACK',
  failed: 'ROLLBACK FAILED: a person must act',
  aborted: 'ABORTED',
};

/** A small bar for a terminal: success rate per measurement, so a drop is seen at a glance. */
function bar(rate: number | undefined, width = 20): string {
  if (rate === undefined) return ' '.repeat(width);
  // The interesting range is 90-100 %: a bar from 90 % up.
  const filled = Math.max(0, Math.min(width, Math.round(((rate - 0.9) / 0.1) * width)));
  return '█'.repeat(filled) + '·'.repeat(width - filled);
}

/** The end-of-release report for a terminal. */
export function formatReport(release: ReleaseRecord, files: readonly string[] = []): string {
  const lines = [
    `${release.service} ${release.label} to ${release.environment}: ${RESULT_WORDS[release.result]}` +
      (release.durationMs === undefined ? '' : ` in ${(release.durationMs / 1000).toFixed(1)} s`),
    `  strategy   ${release.strategy}, from ${release.previous?.label ?? 'nothing'}`,
  ];
  if (release.reason) lines.push(`  reason     ${release.reason}`);
  lines.push('', '  steps');
  for (const step of release.steps) {
    const mark = step.status === 'done' ? '✓' : step.status === 'failed' ? '✗' : '-';
    lines.push(
      `    ${mark} ${step.kind.padEnd(8)} ${step.title}  ${(step.durationMs / 1000).toFixed(1)} s${step.detail ? `  (${step.detail})` : ''}`,
    );
  }
  const rows = analysisRows(release);
  if (rows.length > 0) {
    lines.push('', '  analysis (success rate from 90 % to 100 %)');
    for (const row of rows) lines.push(`    ${bar(row.successRate)}  ${formatFigures(row)}`);
  }
  if (files.length > 0) lines.push('', `  report     ${files.join(', ')}`);
  if (release.result === 'released') {
    lines.push(`  roll back  npx nx run ${release.service}:rollback --env=${release.environment}`);
  }
  return lines.join('\n');
}

/** The report as markdown, with the chart beside it. */
export function formatMarkdown(release: ReleaseRecord, chartFile: string | undefined): string {
  const lines = [
    `# ${release.service} ${release.label} to ${release.environment}: ${RESULT_WORDS[release.result].toLowerCase()}`,
    '',
    `| | |`,
    `| --- | --- |`,
    `| version | ${release.version} (revision ${release.revision}) |`,
    `| strategy | ${release.strategy} |`,
    `| from | ${release.previous?.label ?? 'nothing'} |`,
    `| started | ${release.startedAt} |`,
    `| duration | ${release.durationMs === undefined ? '-' : `${(release.durationMs / 1000).toFixed(1)} s`} |`,
    `| by | ${release.by} |`,
    ...(release.reason ? [`| reason | ${release.reason.replaceAll('|', '\\|')} |`] : []),
    '',
    '## Steps',
    '',
    '| step | | what | time |',
    '| --- | --- | --- | --- |',
    ...release.steps.map(
      (s) =>
        `| ${s.kind} | ${s.status} | ${s.title}${s.detail ? ` (${s.detail.replaceAll('|', '\\|')})` : ''} | ${(s.durationMs / 1000).toFixed(1)} s |`,
    ),
  ];
  const rows = analysisRows(release);
  if (rows.length > 0) {
    lines.push(
      '',
      '## Analysis',
      '',
      ...(chartFile ? [`![success rate and p99 per step](${chartFile})`, ''] : []),
      '| weight | requests | success | p99 | verdict |',
      '| --- | --- | --- | --- | --- |',
      ...rows.map(
        (r) =>
          `| ${r.weight}% | ${r.requests ?? '-'} | ${pct(r.successRate)} | ${ms(r.p99Seconds)} | ${r.verdict}: ${r.reason} |`,
      ),
    );
  }
  lines.push(
    '',
    release.result === 'released'
      ? `Roll back: \`npx nx run ${release.service}:rollback --env=${release.environment}\``
      : `Runbook: docs/runbooks/failed-release.md`,
    '',
  );
  return lines.join('\n');
}
