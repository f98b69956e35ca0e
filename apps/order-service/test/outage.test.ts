import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import {
  buildOrder,
  customer,
  serviceAuth,
  startOrderService,
  startWorld,
  type World,
} from './helpers.ts';

let world: World;
let service: Awaited<ReturnType<typeof startOrderService>>;

before(async () => {
  world = await startWorld();
  service = await startOrderService(world, {
    PAYMENT_TIMEOUT_MS: '1000',
    UPSTREAM_MAX_ATTEMPTS: '2',
    BREAKER_SAMPLING_MS: '5000',
    BREAKER_MIN_RPS: '0.2',
    BREAKER_HALF_OPEN_AFTER_MS: '500',
    RECOVERY_INTERVAL_MS: '100',
    PAYMENT_LEASE_MS: '200',
  });
});
after(async () => {
  await service.stop();
  await world.stop();
});

const place = (auth: Record<string, string>) =>
  request(service.app)
    .post('/orders')
    .set(auth)
    .set('Idempotency-Key', randomUUID())
    .send(buildOrder());

async function paymentCount(orderId: string): Promise<number> {
  const res = await fetch(`${world.payments.url}/payments?orderId=${orderId}`, {
    headers: await serviceAuth(world),
  });
  return ((await res.json()) as { items: unknown[] }).items.length;
}

describe('payment-service down', () => {
  it('answers 503 PAYMENT_UNAVAILABLE, fails fast once the circuit opens, and recovers by itself', async () => {
    const { auth } = await customer(world);
    await world.payments.stop();

    const pendingIds: string[] = [];
    for (let i = 0; i < 10 && service.deps.payments.circuitState !== 'open'; i++) {
      const res = await place(auth);
      assert.equal(res.status, 503);
      assert.equal(res.body.code, 'PAYMENT_UNAVAILABLE');
      assert.ok(res.headers['retry-after']);
      pendingIds.push(res.body.orderId as string);
    }
    assert.equal(service.deps.payments.circuitState, 'open');

    const started = performance.now();
    const fast = await place(auth);
    const elapsed = performance.now() - started;
    assert.equal(fast.status, 503);
    assert.equal(fast.body.code, 'PAYMENT_UNAVAILABLE');
    assert.ok(elapsed < 500, `failed fast in ${elapsed.toFixed(0)} ms`);
    // With the circuit open nothing is stored: the client comes back with the same key.
    assert.equal(fast.body.orderId, undefined);
    assert.match(fast.body.detail as string, /nothing was stored/);

    for (const id of pendingIds) {
      const order = await request(service.app).get(`/orders/${id}`).set(auth).expect(200);
      assert.equal(order.body.status, 'pending', 'kept, not lost');
    }

    await world.payments.start();
    await sleep(600); // the circuit lets a trial request through after 500 ms
    for (let round = 0; round < 20; round++) {
      await service.recovery.runOnce();
      const states = await Promise.all(
        pendingIds.map(
          async (id) =>
            (await request(service.app).get(`/orders/${id}`).set(auth)).body.status as string,
        ),
      );
      if (states.every((s) => s === 'paid')) break;
      await sleep(150);
    }
    for (const id of pendingIds) {
      const order = await request(service.app).get(`/orders/${id}`).set(auth).expect(200);
      assert.equal(order.body.status, 'paid', `order ${id} completed by recovery`);
      assert.equal(await paymentCount(id), 1, `order ${id} charged once`);
    }
    assert.equal(service.deps.payments.circuitState, 'closed');
    const fresh = await place(auth);
    assert.equal(fresh.status, 201);
    assert.equal(fresh.body.status, 'paid');
  });

  it('cancels a pending order whose payment stays unreachable past the give-up time', async () => {
    const { auth } = await customer(world);
    await world.payments.stop();
    try {
      const res = await place(auth);
      assert.equal(res.status, 503);
      const id = res.body.orderId as string;
      await service.deps.db.query(
        "UPDATE orders SET created_at = now() - interval '1 hour' WHERE id = $1",
        [id],
      );
      await sleep(300);
      await service.recovery.runOnce();
      const order = await request(service.app).get(`/orders/${id}`).set(auth).expect(200);
      assert.equal(order.body.status, 'cancelled');
      assert.equal(order.body.failureReason, 'payment_unresolved');
    } finally {
      await world.payments.start();
    }
  });
});
