// The README's "Running with Docker" commands, run as they are written against the committed
// compose files with only the base-image variables set: the stack comes up healthy, a purchase
// goes through the gateway on 127.0.0.1:8080, Prometheus scrapes every service, the load
// generator passes, and `down -v` leaves nothing behind.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { gatewayClient } from '@flotilla/e2e/client';
import { ROOT, docker, run, stream, until } from './docker.ts';

const PROJECT = 'flotilla';
const OBSERVABILITY = ['-f', 'docker-compose.yml', '-f', 'docker/compose.observability.yml'];
const TOOLS = ['-f', 'docker-compose.yml', '-f', 'docker/compose.tools.yml'];
const ALL = [...OBSERVABILITY, '-f', 'docker/compose.tools.yml'];
/** The commands, in the README's order. */
const COMMANDS = {
  up: ['compose', 'up', '--build', '--wait'],
  observability: ['compose', ...OBSERVABILITY, 'up', '--wait', 'prometheus'],
  loadgen: ['compose', ...TOOLS, 'run', '--rm', 'loadgen'],
  down: ['compose', ...ALL, 'down', '-v'],
};
/** What the stack publishes on this machine. */
const PORTS = [8080, 8081, 3101, 3102, 3103, 9090];
const JOBS = ['gateway', 'order-service', 'payment-service', 'prometheus', 'user-service'];

/** The engine and the base images; nothing else from this environment reaches compose. */
const env: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(process.env).filter(
    ([key]) =>
      ['PATH', 'HOME', 'DOCKER_HOST', 'DOCKER_CONFIG'].includes(key) || key.endsWith('_IMAGE'),
  ),
);
const figures: string[] = [];
const { api, newCustomer, placeOrder } = gatewayClient(() => 'http://127.0.0.1:8080');
const project = (kind: 'ps' | 'volume' | 'network') =>
  docker(
    kind === 'ps'
      ? ['ps', '--all', '--quiet', '--filter', `label=com.docker.compose.project=${PROJECT}`]
      : [kind, 'ls', '--quiet', '--filter', `label=com.docker.compose.project=${PROJECT}`],
  );

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

before(async () => {
  assert.equal(
    await project('ps'),
    '',
    `a "${PROJECT}" compose project runs on this engine already: stop it (docker compose down) first`,
  );
  for (const port of PORTS) {
    assert.ok(await portFree(port), `port ${port} is in use on 127.0.0.1: the stack publishes it`);
  }
});

after(async () => {
  await run(COMMANDS.down, { env, timeoutMs: 120_000 });
  if (figures.length > 0) process.stdout.write(`\n${figures.join('\n')}\n`);
});

describe('README "Running with Docker"', () => {
  it('lists exactly the commands this suite runs', () => {
    const readme = readFileSync(`${ROOT}README.md`, 'utf8');
    const section = readme.slice(readme.indexOf('## Running with Docker'));
    const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
    const commands = block
      .split('\n')
      .map((line) => line.replace(/#.*$/, '').trim())
      .filter(Boolean);
    assert.deepEqual(
      commands,
      Object.values(COMMANDS).map((args) => `docker ${args.join(' ')}`),
    );
  });
});

describe('docker compose up --build, end to end', () => {
  it('builds and starts PostgreSQL, Redis, the migrations and the four services, all healthy', async () => {
    const t0 = Date.now();
    const up = await stream(COMMANDS.up, { env, timeoutMs: 600_000 });
    assert.equal(up.code, 0, up.stderr.slice(-4000));
    figures.push(`compose up --build --wait: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const states = (
      await docker(
        ['compose', 'ps', '--all', '--format', '{{.Service}} {{.State}} {{.Health}} {{.ExitCode}}'],
        { env },
      )
    )
      .split('\n')
      .sort();
    for (const app of ['user-service', 'payment-service', 'order-service']) {
      assert.ok(
        states.includes(`${app}-migrate exited  0`),
        `${app}-migrate: ${states.join('; ')}`,
      );
    }
    for (const service of [
      'postgres',
      'redis',
      'user-service',
      'payment-service',
      'order-service',
      'gateway',
    ]) {
      assert.ok(
        states.includes(`${service} running healthy 0`),
        `${service}: ${states.join('; ')}`,
      );
    }
  });

  it('publishes the gateway on 8080 and every admin port on 127.0.0.1 only', async () => {
    const ports = (await docker(['compose', 'ps', '--format', '{{.Service}} {{.Ports}}'], { env }))
      .split('\n')
      .flatMap((line) => {
        const [service, ...published] = line.split(/,? /);
        return published.filter((p) => p.includes('->')).map((p) => `${service} ${p}`);
      });
    assert.ok(
      ports.some((p) => /^gateway .*:8080->8080\/tcp$/.test(p)),
      ports.join('; '),
    );
    for (const port of ports.filter((p) => !p.endsWith('->8080/tcp'))) {
      assert.match(port, / 127\.0\.0\.1:\d+->/, port);
    }
  });

  it('sells through the gateway: register, login, order and pay, cancel, refund', async () => {
    const { id, token } = await newCustomer();
    const placed = await placeOrder(token);
    assert.equal(placed.status, 201, JSON.stringify(placed.body));
    assert.equal(placed.body['status'], 'paid');
    assert.equal(placed.body['userId'], id);
    const orderId = placed.body['id'] as string;
    const payment = await api('GET', `/payments/${placed.body['paymentId'] as string}`, { token });
    assert.equal(payment.status, 200);
    assert.equal(payment.body['amount'], placed.body['total']);

    const cancelled = await api('POST', `/orders/${orderId}/cancel`, { token });
    assert.equal(cancelled.status, 200);
    assert.equal(cancelled.body['status'], 'cancelled');
    const refunded = await api('GET', `/payments/${placed.body['paymentId'] as string}`, { token });
    assert.equal(refunded.body['refundedAmount'], placed.body['total']);
    assert.equal(refunded.body['refunds'].length, 1);
    assert.equal((await api('GET', `/orders/${orderId}`, { token })).body['status'], 'cancelled');
  });

  it('has Prometheus from the observability overlay scrape every service with every rule healthy', async () => {
    const up = await stream(COMMANDS.observability, { env, timeoutMs: 300_000 });
    assert.equal(up.code, 0, up.stderr.slice(-4000));
    const t0 = Date.now();
    const targets = await until(
      'every target up',
      async () => {
        const res = await fetch('http://127.0.0.1:9090/api/v1/targets');
        const body = (await res.json()) as {
          data: { activeTargets: { labels: { job: string }; health: string; lastError: string }[] };
        };
        const active = body.data.activeTargets;
        const up = active
          .filter((t) => t.health === 'up')
          .map((t) => t.labels.job)
          .sort();
        if (up.length < JOBS.length)
          throw new Error(JSON.stringify(active.map((t) => [t.labels.job, t.health, t.lastError])));
        return up;
      },
      { timeoutMs: 90_000, intervalMs: 1000 },
    );
    assert.deepEqual(targets, JOBS);
    const rules = await until(
      'every rule evaluated',
      async () => {
        const res = await fetch('http://127.0.0.1:9090/api/v1/rules');
        const body = (await res.json()) as {
          data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] };
        };
        const all = body.data.groups.flatMap((g) => g.rules);
        const bad = all.filter((r) => r.health !== 'ok');
        if (all.length === 0 || bad.length > 0) throw new Error(JSON.stringify(bad.slice(0, 5)));
        return all;
      },
      { timeoutMs: 90_000, intervalMs: 1000 },
    );
    figures.push(
      `Prometheus: ${targets.length} targets up and ${rules.length} rules healthy ${((Date.now() - t0) / 1000).toFixed(1)} s after it started`,
    );
    const query = await fetch(
      `http://127.0.0.1:9090/api/v1/query?query=${encodeURIComponent('sum by (job) (up)')}`,
    );
    const result = (
      (await query.json()) as {
        data: { result: { metric: { job: string }; value: [number, string] }[] };
      }
    ).data.result;
    assert.deepEqual(
      result.map((r) => `${r.metric.job}=${r.value[1]}`).sort(),
      JOBS.map((job) => `${job}=1`),
    );
  });

  it('runs the tools overlay load generator against the stack, above its success threshold', async () => {
    const loadgen = await stream(COMMANDS.loadgen, {
      env: { ...env, LOADGEN_DURATION: '20s', LOADGEN_RATE: '10' },
      timeoutMs: 300_000,
    });
    assert.equal(loadgen.code, 0, loadgen.stderr.slice(-4000));
    assert.match(loadgen.stdout, /PASS +success \d+\.\d+% \(\d+ of \d+\)/);
    // The running stack is used as it is: no service is recreated under it.
    assert.doesNotMatch(loadgen.stderr, /Recreate/, loadgen.stderr.slice(-4000));
  });

  it('leaves no container, volume or network behind after down -v', async () => {
    const down = await run(COMMANDS.down, { env, timeoutMs: 120_000 });
    assert.equal(down.code, 0, down.stderr);
    assert.equal(await project('ps'), '');
    assert.equal(await project('volume'), '');
    assert.equal(await project('network'), '');
    for (const port of PORTS) assert.ok(await portFree(port), `port ${port} is still taken`);
  });
});
