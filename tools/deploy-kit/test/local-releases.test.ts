// The deploy kit on the local platform, for real: the system as `npm start` runs it (separate
// processes, real PostgreSQL and Redis), a steady purchase load from tools/loadgen through the
// gateway during each release, and the kit's CLI as a user runs it.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Report } from '@flotilla/loadgen';
import type { ReleaseRecord } from '../src/core/ledger.ts';
import { startLocalSystem, type KitResult, type LocalSystem } from './harness.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
let system: LocalSystem;
/** Spans the kit exports over OTLP/HTTP (JSON), as a collector would receive them. */
const spans: { name: string; spanId: string; parentSpanId?: string }[] = [];
let sink: Server | undefined;
let sinkUrl = '';

before(async () => {
  system = await startLocalSystem();
  sink = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const parsed = JSON.parse(body || '{}') as {
        resourceSpans?: { scopeSpans: { spans: typeof spans }[] }[];
      };
      for (const r of parsed.resourceSpans ?? [])
        for (const s of r.scopeSpans) spans.push(...s.spans);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => sink?.listen(0, '127.0.0.1', resolve));
  sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;
});
after(async () => {
  await system?.stop();
  sink?.close();
});

/** Runs a release under load; prints the figures the closing note needs. */
async function underLoad(
  name: string,
  args: string[],
  rate = 20,
  env: Record<string, string> = {},
): Promise<{ result: KitResult; load: Report; release: ReleaseRecord | undefined }> {
  const load = system.load(rate);
  await sleep(1500); // the load's users log in and the traffic settles before the release
  const started = Date.now();
  const result = await system.kit(args, env);
  const report = await load.stop();
  const json = /\{"exitCode".*\}$/m.exec(result.stdout)?.[0];
  const release = json ? (JSON.parse(json) as { release: ReleaseRecord }).release : undefined;
  process.stdout.write(
    `# ${name}: exit ${result.code} in ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
      `load ${report.requests.completed} requests, ${report.requests.failed} failed ${JSON.stringify(report.failures)}\n`,
  );
  return { result, load: report, release };
}

const explain = (r: KitResult) =>
  `exit ${r.code}\n--- stdout\n${r.stdout.slice(-4000)}\n--- stderr\n${r.stderr.slice(-3000)}`;

describe('releases on the local platform under load', { concurrency: false }, () => {
  it('rolls out order-service with no failed request, the old process drained and gone, traced', async () => {
    const before = system.store.readService('order-service')?.instances ?? [];
    const { result, load, release } = await underLoad(
      'rolling',
      ['deploy', 'order-service', '--env=local', '--strategy=rolling', '--force', '--output=json'],
      20,
      { OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl },
    );
    assert.equal(result.code, 0, explain(result));
    assert.equal(load.requests.failed, 0, JSON.stringify(load.failures));
    assert.equal(release?.result, 'released');
    const after = system.store.readService('order-service')?.instances ?? [];
    assert.deepEqual(
      after.map((i) => i.label),
      [release?.label],
    );
    for (const old of before)
      assert.throws(() => process.kill(old.pid, 0), `${old.label} still runs`);
    const table = await system.upstreams();
    assert.deepEqual(
      table['order-service']?.map((v) => [v.version, v.weight]),
      [[release?.label, 100]],
    );
    // A span for the release, and one per step under it.
    const root = spans.find((s) => s.name === 'release order-service to local');
    assert.ok(root, `spans: ${spans.map((s) => s.name).join(', ')}`);
    // Under the release: a span per step, and the HTTP calls the kit makes (undici's).
    const steps = /^(build|migrate|start|ready|smoke|shift|analyse|hold|retire) /;
    const children = spans
      .filter((s) => s.parentSpanId === root.spanId && steps.test(s.name))
      .map((s) => s.name.split(' ')[0]);
    assert.deepEqual(children, ['build', 'migrate', 'start', 'ready', 'smoke', 'shift', 'retire']);
  });

  it('releases order-service blue-green with no failed request, keeping the old one for the preview', async () => {
    const { result, load, release } = await underLoad('blue-green', [
      'deploy',
      'order-service',
      '--env=local',
      '--strategy=blueGreen',
      '--force',
      '--output=json',
    ]);
    assert.equal(result.code, 0, explain(result));
    assert.equal(load.requests.failed, 0, JSON.stringify(load.failures));
    const hold = release?.steps.find((s) => s.kind === 'hold');
    assert.ok(hold && hold.durationMs >= 4000, 'the old version stayed for the preview');
    assert.ok((hold?.figures?.length ?? 0) > 0, 'the new version was measured during the preview');
  });

  it('releases order-service by canary with no failed request, judged at each step, and writes the report', async () => {
    const { result, load, release } = await underLoad('canary', [
      'deploy',
      'order-service',
      '--env=local',
      '--force',
      '--output=json',
    ]);
    assert.equal(result.code, 0, explain(result));
    assert.equal(load.requests.failed, 0, JSON.stringify(load.failures));
    const measured = release?.steps
      .filter((s) => s.kind === 'analyse')
      .map((s) => s.figures?.at(-1));
    assert.deepEqual(
      measured?.map((f) => [f?.weight, f?.verdict]),
      [
        [10, 'passed'],
        [50, 'passed'],
      ],
    );
    assert.ok(measured?.every((f) => (f?.requests ?? 0) >= 5));
    const base = join(ROOT, 'dist/deploy', `order-service-local-r${release?.revision}`);
    assert.match(readFileSync(`${base}.md`, 'utf8'), /## Analysis[\s\S]*\| 10% \|/);
    assert.match(readFileSync(`${base}.svg`, 'utf8'), /^<svg/);
  });

  it("gives a payment-service canary its share of order-service's calls, through the mesh", async () => {
    const { result, release } = await underLoad('payment canary', [
      'deploy',
      'payment-service',
      '--env=local',
      '--force',
      '--output=json',
    ]);
    assert.equal(result.code, 0, explain(result));
    // Only order-service calls payment-service: every request the new version served came from it.
    const first = release?.steps.find((s) => s.kind === 'analyse')?.figures?.at(-1);
    process.stdout.write(
      `# payment canary: ${first?.requests} of order-service's calls reached it at 10%\n`,
    );
    assert.ok((first?.requests ?? 0) >= 5, 'the canary served order-service calls at 10%');
    assert.ok((await system.requestsTo('payment-service', release?.label ?? '')) > 0);
  });

  it('rolls a failing build back before it reaches 50 %: exit 1, traffic on stable, failures bounded by the first weight', async () => {
    const stable = (await system.upstreams())['order-service']?.find(
      (v) => v.weight === 100,
    )?.version;
    const { result, load, release } = await underLoad(
      'failing canary',
      [
        'deploy',
        'order-service',
        '--env=local',
        '--force',
        '--set',
        'FAULT_ERROR_RATE=30',
        '--output=json',
      ],
      25,
    );
    assert.equal(result.code, 1, explain(result));
    assert.equal(release?.result, 'rolled-back');
    // 30 % of its answers fail: the pinned smoke test or the analysis at 10 % catches it.
    const failed = release?.steps.find((s) => s.status === 'failed');
    assert.ok(
      failed?.kind === 'smoke' ||
        (failed?.kind === 'analyse' && failed.figures?.at(-1)?.weight === 10),
      JSON.stringify(failed),
    );
    assert.ok(
      !release?.steps.some((s) => s.kind === 'shift' && s.title.startsWith('50%')),
      'never reached 50 %',
    );
    assert.deepEqual(
      (await system.upstreams())['order-service']?.map((v) => [v.version, v.weight]),
      [[stable, 100]],
    );
    // At 10 % with 30 % of its answers failing, clients lose about 3 % of their requests while the
    // canary lives; with the weights ignored they would lose 30 %.
    const bound = Math.ceil(0.1 * load.requests.completed);
    process.stdout.write(
      `# failing canary: caught by ${failed?.kind}; ${load.requests.failed} of ${load.requests.completed} requests failed (bound ${bound})\n`,
    );
    assert.ok(load.requests.failed <= bound, `${load.requests.failed} failed > ${bound}`);
    const ledger = readFileSync(join(system.home, 'releases/local/order-service.jsonl'), 'utf8');
    assert.match(ledger.trim().split('\n').at(-1) ?? '', /"result":"rolled-back"/);
  });

  it('rolls a slow build back on its first analysis (p99 over the threshold), no client request lost', async () => {
    const stable = (await system.upstreams())['order-service']?.find(
      (v) => v.weight === 100,
    )?.version;
    const { result, load, release } = await underLoad('slow canary', [
      'deploy',
      'order-service',
      '--env=local',
      '--force',
      '--set',
      'FAULT_LATENCY_MS=3000',
      '--output=json',
    ]);
    assert.equal(result.code, 1, explain(result));
    const failed = release?.steps.find((s) => s.status === 'failed');
    assert.equal(failed?.kind, 'analyse');
    assert.equal(failed?.figures?.at(-1)?.weight, 10);
    assert.match(release?.reason ?? '', /analysis failed: p99 \d+ ms > 2500 ms/);
    assert.deepEqual(
      (await system.upstreams())['order-service']?.map((v) => [v.version, v.weight]),
      [[stable, 100]],
    );
    assert.equal(load.requests.failed, 0, JSON.stringify(load.failures));
  });

  it('refuses what did not succeed in the environment before, and production without an approval', async () => {
    const staging = await system.kit(['deploy', 'payment-service', '--env=chain-staging']);
    assert.equal(staging.code, 3, explain(staging));
    assert.match(staging.stdout, /has not been released in chain-dev/);
    const dev = await system.kit(['deploy', 'payment-service', '--env=chain-dev', '--force']);
    assert.equal(dev.code, 0, explain(dev));
    const promoted = await system.kit([
      'deploy',
      'payment-service',
      '--env=chain-staging',
      '--force',
    ]);
    assert.equal(promoted.code, 0, explain(promoted));
    const production = await system.kit([
      'deploy',
      'payment-service',
      '--env=chain-production',
      '--force',
    ]);
    assert.equal(production.code, 3, explain(production));
    assert.match(production.stdout, /chain-production needs an approval/);
    const approved = await system.kit(
      ['deploy', 'payment-service', '--env=chain-production', '--force', '--dry-run'],
      {
        FLOTILLA_APPROVED_BY: 'release-manager',
      },
    );
    assert.equal(approved.code, 0, explain(approved));
    assert.match(approved.stdout, /approved by release-manager/);
  });

  it('leaves the system serving when the kit is killed mid-canary; status says so and the next deploy undoes it', async () => {
    const load = system.load(20);
    await sleep(1500);
    const stable = (await system.upstreams())['order-service']?.find(
      (v) => v.weight === 100,
    )?.version;
    const kit = system.spawnKit(['deploy', 'order-service', '--env=local', '--force']);
    while (!/✔ shift\s+10% of traffic/.test(kit.stdout())) {
      assert.equal(kit.child.exitCode, null, kit.stdout());
      await sleep(100);
    }
    kit.child.kill('SIGKILL');
    await once(kit.child, 'exit');
    const left = (await system.upstreams())['order-service'] ?? [];
    assert.deepEqual(
      left.map((v) => v.weight).sort((a, b) => a - b),
      [10, 90],
      'the canary still takes its share',
    );

    const status = await system.kit(['status', 'order-service', '--env=local']);
    assert.equal(status.code, 0, explain(status));
    assert.match(status.stdout, /lock\s+stale/);
    assert.match(status.stdout, /unfinished release r\d+/);

    const deploy = await system.kit([
      'deploy',
      'order-service',
      '--env=local',
      '--strategy=rolling',
      '--force',
    ]);
    const report = await load.stop();
    assert.equal(deploy.code, 0, explain(deploy));
    assert.match(deploy.stdout, /undoing the unfinished release/);
    assert.equal(report.requests.failed, 0, JSON.stringify(report.failures));
    const history = readFileSync(join(system.home, 'releases/local/order-service.jsonl'), 'utf8');
    assert.match(history, /"result":"aborted"/);
    const canary = left.find((v) => v.weight === 10)?.version;
    assert.ok(
      !(system.store.readService('order-service')?.instances ?? []).some((i) => i.label === canary),
    );
    assert.notEqual(stable, undefined);
  });

  it('releases the gateway itself, rolling on its port, with no failed request', async () => {
    const oldGateway = system.store.readService('gateway')?.instances[0];
    const { result, load } = await underLoad('gateway rolling', [
      'deploy',
      'gateway',
      '--env=local',
      '--force',
      '--output=json',
    ]);
    assert.equal(result.code, 0, explain(result));
    assert.equal(load.requests.failed, 0, JSON.stringify(load.failures));
    const now = system.store.readService('gateway')?.instances ?? [];
    assert.equal(now.length, 1);
    assert.notEqual(now[0]?.pid, oldGateway?.pid);
    assert.equal(now[0]?.port, oldGateway?.port, 'same public port');
    const refused = await system.kit(['deploy', 'gateway', '--env=local', '--strategy=canary']);
    assert.equal(refused.code, 2, explain(refused));
    assert.match(refused.stdout, /releases the gateway rolling only/);
  });

  it('shows failed requests when a process is stopped without draining (so the zeros above can fail)', async () => {
    const load = system.load(20);
    await sleep(1500);
    const stable = system.store.readService('order-service')?.instances.at(-1);
    assert.ok(stable && existsSync(`/proc/${stable.pid}`));
    process.kill(stable.pid, 'SIGKILL');
    await sleep(2000);
    const report = await load.stop();
    process.stdout.write(
      `# negative control: ${report.requests.failed} of ${report.requests.completed} failed\n`,
    );
    assert.ok(
      report.requests.failed > 0,
      'killing the process that takes the traffic fails requests',
    );
  });
});
