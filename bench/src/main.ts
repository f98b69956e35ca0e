// The benchmark: each scenario is a pair of servers loaded in turn by wrk, interleaved over
// several rounds; it prints the median ratio per pair and writes every figure to a JSON file.
//   node bench/src/main.ts [--scenario=id,id] [--rounds=5] [--seconds=5] [--warmup=3] [--out=file]
//   [--profile=dir]: every Node server writes a CPU profile (--cpu-prof) there when it stops.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus as machineCpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { cpuPlan } from './cpus.ts';
import { Fixture } from './fixture.ts';
import { formatTable } from './report.ts';
import { loadAverage, runScenario, type ScenarioResult } from './run.ts';
import { SCENARIOS } from './scenarios.ts';

const say = (line: string) => process.stdout.write(`${line}\n`);
const usage = `usage: node bench/src/main.ts [--scenario=${SCENARIOS.map((s) => s.id).join(',')}] [--rounds=5] [--seconds=5] [--warmup=3] [--connections=32] [--out=dist/bench/results.json] [--profile=dir]`;

function fail(message: string): never {
  process.stderr.write(`bench: ${message}\n${usage}\n`);
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      scenario: { type: 'string' },
      rounds: { type: 'string', default: '5' },
      seconds: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '3' },
      connections: { type: 'string', default: '32' },
      out: { type: 'string', default: 'dist/bench/results.json' },
      profile: { type: 'string' },
    },
  }));
} catch (err) {
  fail((err as Error).message);
}
const positive = (name: string, text: string, max: number) => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > max)
    fail(`--${name} must be an integer from 1 to ${max}`);
  return n;
};
const settings = {
  rounds: positive('rounds', values.rounds, 50),
  seconds: positive('seconds', values.seconds, 60),
  warmupSeconds: positive('warmup', values.warmup, 60),
  connections: positive('connections', values.connections, 1024),
  cpus: cpuPlan(),
};
const wanted = values.scenario?.split(',').filter(Boolean) ?? SCENARIOS.map((s) => s.id);
const unknown = wanted.filter((id) => !SCENARIOS.some((s) => s.id === id));
if (unknown.length > 0) fail(`unknown scenario(s): ${unknown.join(', ')}`);
const selected = SCENARIOS.filter((s) => wanted.includes(s.id));

// This process reads the servers' logs: it runs beside the load generator, not the servers.
if (settings.cpus.load !== undefined)
  execFileSync('taskset', ['-p', '-c', String(settings.cpus.load), String(process.pid)], {
    stdio: 'ignore',
  });
const dir = mkdtempSync(join(tmpdir(), 'flotilla-bench-'));
const profileDir = values.profile ? resolve(values.profile) : undefined;
if (profileDir) mkdirSync(profileDir, { recursive: true });
const fixture = new Fixture({ dir, cpu: settings.cpus.servers, profileDir });
const loadBefore = loadAverage();
say(
  `Flotilla benchmark: ${selected.length} scenario(s), ${settings.rounds} rounds of ${settings.seconds} s per side, ` +
    `wrk -t1 -c${settings.connections}; ` +
    (settings.cpus.servers !== undefined
      ? `servers on CPU ${settings.cpus.servers}, load on CPU ${settings.cpus.load}`
      : 'one CPU: servers and load share it (ratios only)') +
    `; load average ${loadBefore.toFixed(2)}`,
);
const results: ScenarioResult[] = [];
let failed = false;
try {
  for (const scenario of selected) {
    say(`\n${scenario.id}: ${scenario.title}`);
    const result = await runScenario(scenario, fixture, settings, say);
    for (const problem of result.problems) say(`  PROBLEM ${problem}`);
    results.push(result);
  }
} catch (err) {
  failed = true;
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\nlogs in ${dir}\n`);
} finally {
  await fixture.stop();
}
const loadAfter = loadAverage();
say(`\n${formatTable(results)}`);
say(`load average: ${loadBefore.toFixed(2)} at the start, ${loadAfter.toFixed(2)} at the end`);

const out = resolve(values.out);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(
  out,
  `${JSON.stringify(
    {
      date: new Date().toISOString(),
      node: process.version,
      cpu: machineCpus()[0]?.model,
      settings,
      loadAverage: { start: loadBefore, end: loadAfter },
      results,
    },
    null,
    2,
  )}\n`,
);
say(`figures: ${out}`);
if (!failed) rmSync(dir, { recursive: true, force: true });
process.exit(failed || results.some((r) => r.problems.length > 0) ? 1 : 0);
