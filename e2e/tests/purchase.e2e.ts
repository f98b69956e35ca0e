import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { gatewayClient } from '../src/client.ts';
import { startSystem, type System } from '../src/system.ts';

let system: System;
before(async () => {
  system = await startSystem({
    RATE_LIMIT_CLIENT_PER_MINUTE: '1000000',
    RATE_LIMIT_USER_PER_MINUTE: '120',
    RATE_LIMIT_BURST: '40',
  });
});
after(async () => {
  await system?.stop();
});

const { api, newCustomer, order, placeOrder } = gatewayClient(() => system.gateway);

describe('the purchase flow through the gateway', () => {
  it('register, login, order, get, list, cancel, and the refund shows in payment', async () => {
    const { id, token } = await newCustomer();
    const placed = await placeOrder(token);
    assert.equal(placed.status, 201);
    assert.equal(placed.body['status'], 'paid');
    assert.equal(placed.body['total'], 1350);
    assert.equal(placed.body['userId'], id);

    const fetched = await api('GET', `/orders/${placed.body['id'] as string}`, { token });
    assert.equal(fetched.status, 200);
    assert.equal(fetched.body['paymentId'], placed.body['paymentId']);

    const listed = await api('GET', '/orders?limit=10', { token });
    assert.deepEqual(
      listed.body['items'].map((o: { id: string }) => o.id),
      [placed.body['id']],
    );

    const cancelled = await api('POST', `/orders/${placed.body['id'] as string}/cancel`, { token });
    assert.equal(cancelled.status, 200);
    assert.equal(cancelled.body['status'], 'cancelled');

    const payment = await api('GET', `/payments/${placed.body['paymentId'] as string}`, { token });
    assert.equal(payment.status, 200);
    assert.equal(payment.body['refundedAmount'], 1350);
    assert.equal(payment.body['refunds'].length, 1);
  });

  it('records a declined card as payment_failed', async () => {
    const { token } = await newCustomer();
    const placed = await placeOrder(token, order('tok_declined'));
    assert.equal(placed.status, 201);
    assert.equal(placed.body['status'], 'payment_failed');
  });

  it('replays an order placed twice with one Idempotency-Key', async () => {
    const { token } = await newCustomer();
    const first = await placeOrder(token, order(), 'e2e-replay');
    const second = await placeOrder(token, order(), 'e2e-replay');
    assert.equal(second.status, 201);
    assert.equal(second.body['id'], first.body['id']);
    const listed = await api('GET', '/orders', { token });
    assert.equal(listed.body['items'].length, 1);
  });

  it('answers 401 without a token', async () => {
    const res = await api('GET', '/orders');
    assert.equal(res.status, 401);
    assert.equal(res.body['code'], 'UNAUTHENTICATED');
  });

  it('answers 429 with Retry-After past the rate limit', async () => {
    const { token } = await newCustomer();
    let limited;
    for (let i = 0; i < 100 && !limited; i++) {
      const res = await api('GET', '/orders', { token });
      if (res.status === 429) limited = res;
      else assert.equal(res.status, 200);
    }
    assert.ok(limited, 'the limit was reached');
    assert.equal(limited.body['code'], 'RATE_LIMITED');
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
  });
});

describe('payment-service outage', () => {
  it('fails orders fast with 503 while it is down and takes them again once it is back', async () => {
    const { token } = await newCustomer();
    const payments = system.services['payment-service'];
    assert.ok(payments);
    await payments.stop();
    let fastest = Infinity;
    for (let i = 0; i < 8; i++) {
      const started = performance.now();
      const res = await placeOrder(token);
      fastest = Math.min(fastest, performance.now() - started);
      assert.equal(res.status, 503);
      assert.equal(res.body['code'], 'PAYMENT_UNAVAILABLE');
    }
    assert.ok(fastest < 250, `once the circuit opened an order failed in ${fastest.toFixed(0)} ms`);

    await payments.start();
    let recovered;
    for (let i = 0; i < 40 && !recovered; i++) {
      await sleep(250);
      const res = await placeOrder(token);
      if (res.status === 201) recovered = res;
    }
    assert.ok(recovered, 'orders succeed again without restarting order-service');
    assert.equal(recovered.body['status'], 'paid');
  });
});

describe('shifting traffic between versions', () => {
  it('moves user-service from v1 100/0 to v2 0/100 under steady traffic with zero failed requests', async () => {
    const v2 = await system.startUserServiceV2();
    const v1 = system.services['user-service'];
    assert.ok(v1);
    const customers = await Promise.all(Array.from({ length: 8 }, () => newCustomer()));
    const setWeights = async (a: number, b: number) => {
      const res = await fetch(`${system.admin.url}/admin/upstreams/user-service`, {
        method: 'PUT',
        headers: {
          authorization: `Bearer ${system.admin.token}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({
          versions: [
            { version: 'v1', url: v1.url, weight: a },
            { version: 'v2', url: v2.url, weight: b },
          ],
        }),
      });
      assert.equal(res.status, 200);
    };
    await setWeights(100, 0);

    let running = true;
    const results: { status: number; upstream: string | null }[] = [];
    const traffic = Promise.all(
      customers.map(async ({ token }) => {
        while (running) {
          const res = await fetch(`${system.gateway}/api/users/me`, {
            headers: { authorization: `Bearer ${token}` },
          });
          await res.arrayBuffer();
          results.push({ status: res.status, upstream: res.headers.get('x-flotilla-upstream') });
          await sleep(50);
        }
      }),
    );
    // Each step waits for a number of answers, not for a time: on a busy machine fewer requests fit
    // in a second, and every step must still see traffic.
    const answered = async (count: number) => {
      const target = results.length + count;
      const deadline = Date.now() + 30_000;
      while (results.length < target) {
        if (Date.now() > deadline) throw new Error(`only ${results.length} of ${target} answers`);
        await sleep(20);
      }
    };
    for (const [a, b] of [
      [75, 25],
      [50, 50],
      [25, 75],
      [0, 100],
    ] as const) {
      await answered(15);
      await setWeights(a, b);
    }
    await answered(20);
    running = false;
    await traffic;

    assert.deepEqual(
      results.filter((r) => r.status !== 200),
      [],
      'no failed request',
    );
    assert.equal(results[0]?.upstream, 'user-service@v1');
    assert.equal(results.at(-1)?.upstream, 'user-service@v2');
  });
});
