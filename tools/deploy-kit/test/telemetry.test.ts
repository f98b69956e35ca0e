// The delivery metrics for real: the kit pushes them to a Prometheus Pushgateway (Debian's) as
// releases happen, a real Prometheus scrapes it, and every panel of the delivery dashboard is run
// there and must give the numbers the ledger says.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort, waitFor } from '@flotilla/testing';
import type { ReleaseRecord } from '../src/core/ledger.ts';
import { pushDeliveryMetrics } from '../src/run/telemetry.ts';

const DASHBOARD = fileURLToPath(
  new URL('../../../deploy/grafana/dashboards/flotilla-delivery.json', import.meta.url),
);
const processes: ChildProcess[] = [];
let dir = '';
let pushgateway = '';
let prometheus = '';

function start(command: string, args: string[], readyUrl: string): Promise<void> {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  child.stderr?.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-3000)));
  child.on(
    'error',
    (err) => (output += `${err.message} (apt-get install prometheus prometheus-pushgateway)`),
  );
  processes.push(child);
  return waitFor(
    `${command}`,
    async () => {
      if (child.exitCode !== null) throw new Error(`${command} exited: ${output}`);
      const res = await fetch(readyUrl);
      if (!res.ok) throw new Error(`${res.status}`);
    },
    { timeoutMs: 30_000, intervalMs: 200 },
  ).then(
    () => undefined,
    (err: Error) => {
      throw new Error(`${command} did not start: ${output}`, { cause: err });
    },
  );
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flotilla-delivery-'));
  const pgPort = await freePort();
  pushgateway = `http://127.0.0.1:${pgPort}`;
  await start(
    'prometheus-pushgateway',
    [`--web.listen-address=127.0.0.1:${pgPort}`],
    `${pushgateway}/-/ready`,
  );
  const promPort = await freePort();
  prometheus = `http://127.0.0.1:${promPort}`;
  await writeFile(
    join(dir, 'prometheus.yml'),
    `global: { scrape_interval: 1s }\nscrape_configs:\n  - job_name: pushgateway\n    honor_labels: true\n    static_configs: [{ targets: ['127.0.0.1:${pgPort}'] }]\n`,
  );
  await start(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
    ],
    `${prometheus}/-/ready`,
  );
});

after(async () => {
  for (const child of processes.reverse()) {
    if (child.exitCode !== null) continue;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

let clock = Date.parse('2026-11-02T09:00:00Z');
function release(
  revision: number,
  result: ReleaseRecord['result'],
  minutes: number,
): ReleaseRecord {
  const startedAt = new Date(clock).toISOString();
  clock += minutes * 60_000;
  return {
    service: 'order-service',
    environment: 'staging',
    revision,
    version: 'abc',
    label: `abc-r${revision}`,
    strategy: 'canary',
    platform: 'kubernetes',
    previous: undefined,
    startedAt,
    finishedAt: new Date(clock).toISOString(),
    durationMs: minutes * 60_000,
    result,
    steps: [],
    by: 'ci@runner',
  };
}

async function query(promql: string): Promise<number | undefined> {
  const res = await fetch(`${prometheus}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = (await res.json()) as {
    status: string;
    error?: string;
    data: { result: { value: [number, string] }[] };
  };
  assert.equal(body.status, 'success', `${promql}: ${body.error ?? ''}`);
  const value = body.data.result[0]?.value[1];
  return value === undefined ? undefined : Number(value);
}

/** Waits until Prometheus has scraped what was just pushed. */
async function scraped(metric: string, value: number): Promise<void> {
  await waitFor(
    `${metric} = ${value}`,
    async () => {
      const got = await query(metric);
      if (got !== value) throw new Error(`${metric} is ${got}`);
    },
    { timeoutMs: 20_000, intervalMs: 300 },
  );
}

describe('delivery metrics through a Pushgateway into Prometheus', () => {
  it('answers every panel of the delivery dashboard with what the ledger says', async () => {
    const ledger: ReleaseRecord[] = [];
    const total = 'sum(flotilla_deployments_total)';
    // Releases happen over time: Prometheus sees the counts grow, push after push.
    await pushDeliveryMetrics(pushgateway, 'order-service', 'staging', ledger);
    await scraped(total, 0);
    ledger.push(release(1, 'released', 2));
    await pushDeliveryMetrics(pushgateway, 'order-service', 'staging', ledger);
    await scraped(total, 1);
    ledger.push(release(2, 'rolled-back', 3), release(3, 'released', 5));
    await pushDeliveryMetrics(pushgateway, 'order-service', 'staging', ledger);
    await scraped(total, 3);

    const dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8')) as {
      panels: { title: string; targets: { expr: string }[] }[];
    };
    const results = new Map<string, number | undefined>();
    for (const panel of dashboard.panels) {
      const expr = panel.targets[0]!.expr.replaceAll('$environment', 'staging');
      results.set(panel.title, await query(expr));
    }
    process.stdout.write(`# delivery panels: ${JSON.stringify(Object.fromEntries(results))}\n`);
    // increase() extrapolates a little at the edges of its window: compare the ratios it makes.
    const frequency = results.get('Deployment frequency') ?? 0;
    assert.ok(frequency >= 2 && frequency <= 2.5, `2 released in the window: ${frequency}`);
    const failureRate = results.get('Change failure rate') ?? 0;
    assert.ok(Math.abs(failureRate - 1 / 3) < 0.01, `1 of the 3 releases failed: ${failureRate}`);
    const restore = results.get('Time to restore') ?? 0;
    assert.ok(
      Math.abs(restore - 8 * 60) < 1,
      `r2 started, r3 finished 8 minutes later: ${restore}`,
    );
    assert.equal(results.get('Release duration'), 5 * 60);
  });
});
