import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { setImmediate as yieldToIo } from 'node:timers/promises';
import { LoadSetupError, runLoad, type Clock } from './load.ts';
import { OptionsError } from './options.ts';
import type { LiveSummary } from './report.ts';
import {
  closedPort,
  settledOrder,
  startFakeGateway,
  type FakeGateway,
} from './testing/fake-gateway.ts';

const gateways: FakeGateway[] = [];
afterEach(async () => {
  while (gateways.length > 0) await gateways.pop()?.close();
});

async function gateway(...args: Parameters<typeof startFakeGateway>) {
  const started = await startFakeGateway(...args);
  gateways.push(started);
  return started;
}

/**
 * Time that moves only when slept through; each sleep still yields to I/O once, so answers that are
 * ready get read. Arrivals and ticks then happen at exact virtual times, however slow the machine.
 */
function virtualClock(): Clock {
  let now = 0;
  return {
    now: () => now,
    sleep: async (ms) => {
      await yieldToIo();
      now += ms;
    },
  };
}

const orderPosts = (gw: FakeGateway) =>
  gw.seen.filter((r) => r.method === 'POST' && r.url === '/api/orders');

describe('runLoad', () => {
  it('registers and logs in the users, then runs the mix at the rate with keyed, authorized orders', async () => {
    const gw = await gateway();
    const ticks: LiveSummary[] = [];

    const report = await runLoad(
      {
        target: gw.url,
        rate: 20,
        durationMs: 1200,
        users: 2,
        mix: { visa: 1, declined: 1, browse: 1 },
      },
      { runId: 'run1', onTick: (s) => ticks.push(s) },
    );

    const registrations = gw.seen.filter((r) => r.url === '/api/users');
    assert.deepEqual(registrations.map((r) => (r.body as { email: string }).email).sort(), [
      'loadgen-run1-0@example.com',
      'loadgen-run1-1@example.com',
    ]);
    assert.ok((registrations[0]?.body as { password: string }).password.length >= 12);
    assert.deepEqual(report.requests, {
      scheduled: 24,
      started: 24,
      dropped: 0,
      completed: 24,
      succeeded: 24,
      failed: 0,
    });
    assert.equal(report.successPercent, 100);
    assert.equal(report.passed, true);
    assert.equal(report.usersReady, 2);
    const orders = orderPosts(gw);
    const keys = orders.map((r) => r.headers['idempotency-key']);
    assert.equal(new Set(keys).size, orders.length, 'one idempotency key per iteration');
    assert.ok(
      orders.every((r) => r.headers.authorization?.startsWith('Bearer token-loadgen-run1-')),
    );
    assert.deepEqual(Object.keys(report.steps), [
      'register',
      'login',
      'visa',
      'declined',
      'browse',
    ]);
    const loadSteps = (['visa', 'declined', 'browse'] as const).map(
      (s) => report.steps[s]?.count ?? 0,
    );
    assert.equal(
      loadSteps.reduce((a, b) => a + b, 0),
      24,
    );
    assert.ok(
      loadSteps.every((count) => count > 0),
      `every scenario ran: ${loadSteps.join(',')}`,
    );
    assert.equal(
      (report.statusCodes['200'] ?? 0) + (report.statusCodes['201'] ?? 0),
      24,
      'setup requests stay out of the load status codes',
    );
    assert.ok(report.elapsedMs >= 1150, `the schedule spans the duration: ${report.elapsedMs}`);
    assert.ok(report.latencyMs.p50 !== null && report.latencyMs.p50 > 0);
    assert.ok(ticks.length >= 1, 'a live summary each second');
    assert.ok(ticks[0] && ticks[0].rate > 0 && ticks[0].successPercent === 100);
  });

  it('logs in a user whose email is already registered', async () => {
    const gw = await gateway();
    await runLoad({ target: gw.url, rate: 10, durationMs: 100, users: 1 }, { runId: 'again' });

    const report = await runLoad(
      { target: gw.url, rate: 10, durationMs: 100, users: 1, mix: { browse: 1 } },
      { runId: 'again' },
    );

    assert.deepEqual(report.steps.register?.statusCodes, { '409': 1 });
    assert.equal(report.steps.register?.failed, 0);
    assert.equal(report.usersReady, 1);
    assert.equal(report.passed, true);
  });

  it('fails the run when the gateway answers 500, and counts each failure by step and reason', async () => {
    const gw = await gateway({ placeOrder: () => ({ status: 500, body: {} }) });

    const report = await runLoad({
      target: gw.url,
      rate: 20,
      durationMs: 500,
      users: 1,
      mix: { visa: 1 },
      minSuccess: 99,
    });

    assert.equal(report.requests.completed, 10);
    assert.equal(report.successPercent, 0);
    assert.equal(report.passed, false);
    assert.deepEqual(report.statusCodes, { '500': 10 });
    assert.deepEqual(report.failures, { 'visa: 500': 10 });
  });

  it('counts an order that was not paid as a failure of visa, and passes at a lower threshold', async () => {
    let n = 0;
    const gw = await gateway({
      placeOrder: (order) =>
        ++n % 2 === 0 ? settledOrder('tok_declined') : settledOrder(order.cardToken),
    });

    const report = await runLoad({
      target: gw.url,
      rate: 20,
      durationMs: 500,
      users: 1,
      mix: { visa: 1 },
      minSuccess: 50,
    });

    assert.equal(report.requests.succeeded, 5);
    assert.equal(report.successPercent, 50);
    assert.equal(report.passed, true);
    assert.deepEqual(report.failures, { 'visa: 201 status=payment_failed': 5 });
  });

  it('counts a request that outlives the timeout as a timeout', async () => {
    const gw = await gateway({ listOrders: () => new Promise(() => undefined) });

    const report = await runLoad({
      target: gw.url,
      rate: 10,
      durationMs: 200,
      users: 1,
      mix: { browse: 1 },
      timeoutMs: 150,
    });

    assert.deepEqual(report.statusCodes, { timeout: 2 });
    assert.equal(report.passed, false);
    assert.ok((report.latencyMs.max ?? 0) >= 140, 'a timeout counts its whole wait');
  });

  it('drops arrivals beyond the concurrency cap instead of queueing them', async () => {
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const gw = await gateway({
      placeOrder: async (order) => {
        await held;
        return settledOrder(order.cardToken);
      },
    });
    const ticks: LiveSummary[] = [];

    const report = await runLoad(
      { target: gw.url, rate: 10, durationMs: 1000, users: 1, concurrency: 2, mix: { visa: 1 } },
      {
        clock: virtualClock(),
        onTick: (s) => {
          ticks.push(s);
          // The first tick comes after the last arrival (at 900 ms): only then may orders finish.
          release();
        },
      },
    );

    assert.equal(ticks[0]?.inFlight, 2);
    assert.equal(ticks[0]?.dropped, 8);
    assert.deepEqual(report.requests, {
      scheduled: 10,
      started: 2,
      dropped: 8,
      completed: 2,
      succeeded: 2,
      failed: 0,
    });
    assert.equal(orderPosts(gw).length, 2);
  });

  it('stops the arrivals when aborted and reports what finished', async () => {
    const gw = await gateway();
    const stop = new AbortController();

    const report = await runLoad(
      { target: gw.url, rate: 20, durationMs: 30_000, users: 1, mix: { browse: 1 } },
      { onStart: () => setTimeout(() => stop.abort(), 300), signal: stop.signal },
    );

    assert.equal(report.aborted, true);
    assert.ok(
      report.requests.started >= 3 && report.requests.started <= 12,
      `${report.requests.started}`,
    );
    assert.equal(report.requests.completed, report.requests.started);
    assert.ok(report.elapsedMs < 2000);
  });

  it('throws LoadSetupError that says what to check when no user can log in', async () => {
    const target = `http://127.0.0.1:${await closedPort()}`;

    await assert.rejects(runLoad({ target, users: 2, durationMs: 100 }), (err: unknown) => {
      assert.ok(err instanceof LoadSetupError);
      assert.match(err.message, /no user could register and log in at http:\/\/127\.0\.0\.1:\d+/);
      assert.match(err.message, /register: connection x 2/);
      assert.match(err.message, /npm start/);
      assert.ok(err.cause, 'the network error is kept as the cause');
      return true;
    });
  });

  it('reports a refused registration as a setup failure', async () => {
    const gw = await gateway({ register: () => ({ status: 400, body: {} }) });

    await assert.rejects(
      runLoad({ target: gw.url, users: 1, durationMs: 100 }),
      /register: 400 x 1/,
    );
  });

  it('refuses invalid options before sending anything', async () => {
    await assert.rejects(runLoad({ rate: 0 }), OptionsError);
  });
});
