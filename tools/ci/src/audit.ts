// Dependency audit of the production dependencies in package-lock.json, with a severity gate:
//   node tools/ci/src/audit.ts [--level high]   (npm run audit)
// Exit 0: nothing at or above the level; 1: vulnerable packages (listed); 2: the registry's audit
// service did not answer, which fails the job too: an audit that did not run has not passed.
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { isMain } from './cli.ts';

export const SEVERITIES = ['info', 'low', 'moderate', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface Finding {
  name: string;
  severity: Severity;
  range: string;
  fixAvailable: boolean;
  advisories: string[];
}

export type AuditResult =
  { kind: 'answered'; findings: Finding[] } | { kind: 'unanswered'; message: string };

interface NpmAuditReport {
  error?: { summary?: string; detail?: string } | string;
  message?: string;
  vulnerabilities?: Record<
    string,
    { name?: string; severity?: string; range?: string; fixAvailable?: unknown; via?: unknown[] }
  >;
}

/** Reads `npm audit --json` output (audit report v2) into findings. */
export function parseAuditReport(json: string): AuditResult {
  let report: NpmAuditReport;
  try {
    report = JSON.parse(json) as NpmAuditReport;
  } catch {
    return { kind: 'unanswered', message: `npm audit printed no report: ${json.slice(0, 200)}` };
  }
  if (report.error || !report.vulnerabilities) {
    const error = report.error;
    const detail =
      typeof error === 'string' ? error : error?.summary || report.message || 'no report';
    return { kind: 'unanswered', message: detail };
  }
  const findings = Object.entries(report.vulnerabilities).map(([name, v]) => ({
    name: v.name ?? name,
    severity: (SEVERITIES as readonly string[]).includes(v.severity ?? '')
      ? (v.severity as Severity)
      : 'critical',
    range: v.range ?? '*',
    fixAvailable: Boolean(v.fixAvailable),
    advisories: (v.via ?? [])
      .map((via) => (typeof via === 'object' && via && 'url' in via ? String(via.url) : ''))
      .filter(Boolean),
  }));
  return { kind: 'answered', findings };
}

/** Findings at or above `level`. */
export function atOrAbove(findings: readonly Finding[], level: Severity): Finding[] {
  return findings.filter((f) => SEVERITIES.indexOf(f.severity) >= SEVERITIES.indexOf(level));
}

/** Runs npm audit on the lockfile in `cwd` (production dependencies only). */
export function runNpmAudit(cwd: string, env: NodeJS.ProcessEnv = process.env): AuditResult {
  const result = spawnSync(
    'npm',
    ['audit', '--package-lock-only', '--omit=dev', '--json', '--no-fund'],
    { cwd, env, encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
  );
  if (result.error) return { kind: 'unanswered', message: result.error.message };
  return parseAuditReport(result.stdout || result.stderr);
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({ options: { level: { type: 'string', default: 'high' } } });
  const level = values.level as Severity;
  if (!SEVERITIES.includes(level)) {
    process.stderr.write(`audit: --level is one of ${SEVERITIES.join(', ')}\n`);
    process.exit(2);
  }
  const result = runNpmAudit(process.cwd());
  if (result.kind === 'unanswered') {
    process.stderr.write(`audit: the registry's audit service did not answer: ${result.message}\n`);
    process.exit(2);
  }
  const failing = atOrAbove(result.findings, level);
  process.stdout.write(
    `audit: ${result.findings.length} vulnerable package(s), ${failing.length} at or above ${level}\n`,
  );
  for (const f of failing) {
    process.stdout.write(
      `  ${f.severity.padEnd(8)} ${f.name} ${f.range}${f.fixAvailable ? ' (fix available)' : ''} ${f.advisories.join(' ')}\n`,
    );
  }
  process.exit(failing.length > 0 ? 1 : 0);
}
