// A real Prometheus (the Debian package) scraping the whole system started from its build output,
// with the Flotilla rules loaded: traffic from the load generator, some of it failed on purpose,
// is read back over Prometheus' HTTP API with the PromQL the canary analysis uses.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startSystem, type System } from '@flotilla/e2e/system';
import { runLoad, type Report } from '@flotilla/loadgen';
import {
  SLO,
  gatewaySuccessRate,
  metricNames,
  serviceSuccessRate,
  type Window,
} from '@flotilla/promql';
import { freePort, waitFor } from '@flotilla/testing';
import { PROMETHEUS_DIR, dashboardQueries, loadRules } from '../src/observability.ts';

const ORDER_ERROR_PERCENT = 20;
let system: System;
let prometheus: ChildProcess | undefined;
let prometheusUrl = '';
let dataDir = '';
let report: Report;
/** The gateway's order-service counts once every series exists, and when the load is over. */
let countedBefore: { total: number; ok: number };
let countedAfter: { total: number; ok: number };
let measuredWindow: Window;
/** When the window ends: the counts after the load were read then (seconds since the epoch). */
let measuredAt: number;

/** Runs an instant query and returns its samples. */
/** An instant query, evaluated now or at `time` (seconds since the epoch). */
async function query(
  promql: string,
  time?: number,
): Promise<{ metric: Record<string, string>; value: number }[]> {
  const at = time === undefined ? '' : `&time=${time}`;
  const res = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(promql)}${at}`);
  const body = (await res.json()) as {
    status: string;
    error?: string;
    data: { result: { metric: Record<string, string>; value: [number, string] }[] };
  };
  assert.equal(body.status, 'success', `${promql}: ${body.error ?? ''}`);
  return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
}

/** The gateway's own count of proxied requests to an upstream, from its /metrics. */
async function gatewayCounts(upstream: string) {
  const text = await (await fetch(`${system.gateway}/metrics`)).text();
  let total = 0;
  let ok = 0;
  for (const line of text.split('\n')) {
    const match = /^gateway_upstream_requests_total\{(.*)\} (\d+)$/.exec(line);
    if (!match || !match[1]!.includes(`upstream="${upstream}"`)) continue;
    total += Number(match[2]);
    if (!/status_code="5\d\d"/.test(match[1]!)) ok += Number(match[2]);
  }
  return { total, ok };
}

before(async () => {
  system = await startSystem({
    RATE_LIMIT_CLIENT_PER_MINUTE: '1000000',
    RATE_LIMIT_USER_PER_MINUTE: '1000000',
  });
  dataDir = await mkdtemp(join(tmpdir(), 'flotilla-prometheus-'));
  const jobs = Object.entries(system.services)
    .map(
      ([name, service]) =>
        `  - job_name: ${name}\n    static_configs:\n      - targets: ['${new URL(service.url).host}']`,
    )
    .join('\n');
  await writeFile(
    join(dataDir, 'prometheus.yml'),
    `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - ${PROMETHEUS_DIR}rules/*.yml\nscrape_configs:\n${jobs}\n`,
  );
  const port = await freePort();
  prometheusUrl = `http://127.0.0.1:${port}`;
  let output = '';
  prometheus = spawn(
    'prometheus',
    [
      `--config.file=${join(dataDir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dataDir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  prometheus.on('error', (err) => (output += `${err.message} (apt-get install prometheus)`));
  prometheus.stderr?.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-5000)));
  await waitFor(
    'prometheus ready',
    async () => {
      if (prometheus?.exitCode !== null) throw new Error(`prometheus exited: ${output}`);
      const res = await fetch(`${prometheusUrl}/-/ready`);
      if (!res.ok) throw new Error(`/-/ready ${res.status}`);
    },
    { timeoutMs: 30_000 },
  );

  // order-service fails a fifth of its requests on purpose, the way a bad canary would.
  const faults = await system.setFaults('order-service', { errorRatePercent: ORDER_ERROR_PERCENT });
  assert.equal(faults.status, 200);
  const load = (durationMs: number) =>
    runLoad({
      target: system.gateway,
      rate: 20,
      durationMs,
      mix: { visa: 60, browse: 40 },
      users: 3,
      minSuccess: 0,
    });
  const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  // A warm-up creates every series (200, 201, 503) and lets Prometheus scrape them, since rate()
  // cannot see what a series counted before its first scrape.
  await load(2000);
  await settle(4000);
  countedBefore = await gatewayCounts('order-service');
  const started = Date.now();
  report = await load(12_000);
  await settle(2500);
  countedAfter = await gatewayCounts('order-service');
  // The window ends when the counts were read, whenever the query runs, and starts 2-3 s before
  // the load: after the warm-up's last request and the scrape after it (scrapes come every
  // second), so its first sample holds the counts read before the load and its last those after.
  const readAt = Date.now();
  measuredAt = readAt / 1000;
  measuredWindow = `${Math.ceil((readAt - started) / 1000) + 2}s`;
});

after(async () => {
  if (prometheus && prometheus.exitCode === null) {
    const exited = once(prometheus, 'exit');
    prometheus.kill('SIGTERM');
    await exited;
  }
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  await system?.stop();
});

describe('Prometheus scraping the running system', () => {
  it('scrapes every service', async () => {
    const up = await query('up');
    assert.deepEqual(up.map((s) => [s.metric['job'], s.value]).sort(), [
      ['gateway', 1],
      ['order-service', 1],
      ['payment-service', 1],
      ['user-service', 1],
    ]);
  });

  it('measures the success rate the gateway saw, with the canary analysis query', async () => {
    const total = countedAfter.total - countedBefore.total;
    assert.ok(total >= 200, `only ${total} order requests`);
    const expected = (countedAfter.ok - countedBefore.ok) / total;
    const [measured] = await query(
      gatewaySuccessRate({ upstream: 'order-service', window: measuredWindow }),
      measuredAt,
    );
    assert.ok(measured, 'no sample for order-service');
    process.stdout.write(
      `order-service success: Prometheus ${measured.value.toFixed(4)}, gateway counters ${expected.toFixed(4)}, ` +
        `load generator ${report.successPercent?.toFixed(2)}% of ${report.requests.completed}\n`,
    );
    assert.ok(Math.abs(measured.value - expected) < 0.01, `${measured.value} vs ${expected}`);
    assert.ok(Math.abs(measured.value * 100 - (report.successPercent ?? 0)) < 3);
    assert.ok(measured.value < SLO.minSuccessRate, 'a canary like this must fail the analysis');
  });

  it('sees no failures where no fault is set: payment-service, charged for every order', async () => {
    const samples = await query(serviceSuccessRate('1m'));
    const payments = samples.find((s) => s.metric['service'] === 'payment-service');
    assert.equal(payments?.value, 1);
    const orders = samples.find((s) => s.metric['service'] === 'order-service');
    assert.ok(orders && orders.value < 1);
  });

  it('evaluates the recording rules into the series the alerts and dashboards read', async () => {
    await waitFor(
      'recording rules',
      async () => {
        const samples = await query(
          'upstream_version:gateway_success_ratio:rate1m{upstream="order-service"}',
        );
        if (samples.length === 0) throw new Error('not recorded yet');
        assert.ok(samples[0]!.value < 1);
      },
      { timeoutMs: 40_000, intervalMs: 1000 },
    );
    const res = await fetch(`${prometheusUrl}/api/v1/rules`);
    const rules = (await res.json()) as {
      data: { groups: { rules: { name: string; health: string }[] }[] };
    };
    const unhealthy = rules.data.groups.flatMap((g) => g.rules).filter((r) => r.health === 'err');
    assert.deepEqual(unhealthy, []);
  });

  it('has every metric the dashboards and alerts query, as the services export it', async () => {
    const res = await fetch(`${prometheusUrl}/api/v1/label/__name__/values`);
    const exported = new Set(((await res.json()) as { data: string[] }).data);
    const recorded = new Set(loadRules().flatMap((r) => (r.record ? [r.record] : [])));
    const wanted = [
      ...dashboardQueries().map((q) => ({ where: `${q.dashboard} "${q.panel}"`, expr: q.expr })),
      ...loadRules().map((r) => ({ where: r.alert ?? r.record ?? '', expr: r.expr })),
    ];
    // The delivery dashboard reads what the deploy kit pushes after a release, not what a service
    // exports: tools/deploy-kit/test/telemetry.test.ts runs those panels against a real Prometheus.
    const pushed = (name: string) => name.startsWith('flotilla_');
    const missing = wanted.flatMap(({ where, expr }) =>
      metricNames(expr)
        .filter((name) => !exported.has(name) && !recorded.has(name) && !pushed(name))
        .map((name) => `${where}: ${name}`),
    );
    assert.deepEqual(missing, []);
  });
});
