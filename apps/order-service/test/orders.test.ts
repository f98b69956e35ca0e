import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
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
  service = await startOrderService(world);
});
after(async () => {
  await service.stop();
  await world.stop();
});

const place = (auth: Record<string, string>, body: unknown, key: string = randomUUID()) =>
  request(service.app)
    .post('/orders')
    .set(auth)
    .set('Idempotency-Key', key)
    .send(body as object);

async function paymentsOf(orderId: string) {
  const res = await fetch(`${world.payments.url}/payments?orderId=${orderId}`, {
    headers: await serviceAuth(world),
  });
  return (
    (await res.json()) as {
      items: { id: string; amount: number; refundedAmount: number; status: string }[];
    }
  ).items;
}

describe('POST /orders', () => {
  it('computes the total in minor units, charges it once, and answers the paid order', async () => {
    const { userId, auth } = await customer(world);
    const res = await place(auth, buildOrder());

    assert.equal(res.status, 201);
    assert.equal(res.body.userId, userId);
    assert.equal(res.body.total, 2 * 1999 + 500);
    assert.equal(res.body.currency, 'EUR');
    assert.equal(res.body.status, 'paid');
    assert.match(res.body.paymentId, /^[0-9a-f-]{36}$/);
    assert.deepEqual(res.body.items, buildOrder().items);
    const payments = await paymentsOf(res.body.id);
    assert.equal(payments.length, 1);
    assert.equal(payments[0]?.id, res.body.paymentId);
    assert.equal(payments[0]?.amount, 4498);
  });

  it('records a declined card as payment_failed', async () => {
    const { auth } = await customer(world);
    const res = await place(auth, buildOrder({ cardToken: 'tok_declined' }));
    assert.equal(res.status, 201);
    assert.equal(res.body.status, 'payment_failed');
    assert.equal(res.body.failureReason, 'card_declined');
    assert.equal(res.body.paymentId, null);
  });

  it('records a processor outage as payment_failed', async () => {
    const { auth } = await customer(world);
    const res = await place(auth, buildOrder({ cardToken: 'tok_error' }));
    assert.equal(res.status, 201);
    assert.equal(res.body.status, 'payment_failed');
    assert.equal(res.body.failureReason, 'processor_unavailable');
  });

  it('replays the order for the same Idempotency-Key and charges once', async () => {
    const { auth } = await customer(world);
    const first = await place(auth, buildOrder(), 'order-key-1');
    assert.equal(first.status, 201, JSON.stringify(first.body));
    const second = await place(auth, buildOrder(), 'order-key-1');
    assert.equal(second.status, 201);
    assert.equal(second.body.id, first.body.id);
    assert.equal(second.headers['idempotent-replayed'], 'true');
    assert.equal((await paymentsOf(first.body.id)).length, 1);
  });

  it('refuses the same key with another order with 422', async () => {
    const { auth } = await customer(world);
    await place(auth, buildOrder(), 'order-key-2').expect(201);
    const res = await place(auth, buildOrder({ currency: 'USD' }), 'order-key-2');
    assert.equal(res.status, 422);
    assert.equal(res.body.code, 'IDEMPOTENCY_KEY_REUSED');
  });

  it('refuses bad input with 400 and the failing fields', async () => {
    const { auth } = await customer(world);
    const cases: [unknown, string][] = [
      [buildOrder({ items: [] }), 'body.items'],
      [buildOrder({ items: [{ sku: 'A', quantity: 0, unitPrice: 1 }] }), 'body.items.0.quantity'],
      [
        buildOrder({ items: [{ sku: 'A', quantity: 1, unitPrice: 9.99 }] }),
        'body.items.0.unitPrice',
      ],
      [buildOrder({ items: [{ sku: 'A B', quantity: 1, unitPrice: 1 }] }), 'body.items.0.sku'],
      [
        buildOrder({ items: [{ sku: 'A', quantity: 1000, unitPrice: 10_000_001 }] }),
        'body.items.0.unitPrice',
      ],
      [buildOrder({ currency: 'AAA' }), 'body.currency'],
      [buildOrder({ currency: 'eur' }), 'body.currency'],
      [buildOrder({ cardToken: '' }), 'body.cardToken'],
      [{ ...buildOrder(), discount: 10 }, 'body'],
    ];
    for (const [body, path] of cases) {
      const res = await place(auth, body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.ok(
        res.body.errors.some((e: { path: string }) => e.path === path),
        `${path} in ${JSON.stringify(res.body.errors)}`,
      );
    }
    const withoutKey = await request(service.app).post('/orders').set(auth).send(buildOrder());
    assert.equal(withoutKey.status, 400);
    assert.equal(withoutKey.body.code, 'IDEMPOTENCY_KEY_REQUIRED');
  });

  it('refuses a user user-service does not know, and a missing token', async () => {
    const stranger = {
      Authorization: `Bearer ${await world.issuer.issue({ userId: randomUUID() })}`,
    };
    const res = await place(stranger, buildOrder());
    assert.equal(res.status, 403);
    assert.equal(res.body.code, 'USER_UNKNOWN');
    assert.equal((await request(service.app).post('/orders').send(buildOrder())).status, 401);
  });
});

describe('GET /orders/:id and GET /orders', () => {
  it('shows an order to its owner only; others get 404', async () => {
    const owner = await customer(world);
    const other = await customer(world);
    const order = (await place(owner.auth, buildOrder()).expect(201)).body;
    const mine = await request(service.app)
      .get(`/orders/${order.id as string}`)
      .set(owner.auth);
    assert.equal(mine.status, 200);
    assert.equal(mine.body.id, order.id);
    const theirs = await request(service.app)
      .get(`/orders/${order.id as string}`)
      .set(other.auth);
    assert.equal(theirs.status, 404);
    assert.equal(theirs.body.code, 'ORDER_NOT_FOUND');
  });

  it('pages through orders newest first with a cursor', async () => {
    const { auth } = await customer(world);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await place(auth, buildOrder()).expect(201)).body.id as string);

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await request(service.app)
        .get('/orders')
        .query(cursor ? { limit: 2, cursor } : { limit: 2 })
        .set(auth)
        .expect(200);
      seen.push(...res.body.items.map((o: { id: string }) => o.id));
      cursor = res.body.nextCursor as string | null;
      pages++;
    } while (cursor);
    assert.equal(pages, 3);
    assert.deepEqual(seen, ids.reverse());
  });

  it('takes an empty cursor as the first page', async () => {
    const { auth } = await customer(world);
    const placed = (await place(auth, buildOrder()).expect(201)).body;
    const res = await request(service.app).get('/orders').query({ cursor: '' }).set(auth);
    assert.equal(res.status, 200);
    assert.deepEqual(
      res.body.items.map((o: { id: string }) => o.id),
      [placed.id],
    );
    assert.equal(res.body.nextCursor, null);
  });

  it('refuses a forged cursor and an out-of-range limit', async () => {
    const { auth } = await customer(world);
    assert.equal(
      (await request(service.app).get('/orders').query({ cursor: 'bm9wZQ' }).set(auth)).status,
      400,
    );
    assert.equal(
      (await request(service.app).get('/orders').query({ limit: 1000 }).set(auth)).status,
      400,
    );
  });
});

describe('POST /orders/:id/cancel', () => {
  it('refunds a paid order in full, then cancels it; cancelling again changes nothing', async () => {
    const { auth } = await customer(world);
    const order = (await place(auth, buildOrder()).expect(201)).body;
    const res = await request(service.app)
      .post(`/orders/${order.id as string}/cancel`)
      .set(auth);
    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'cancelled');
    assert.equal(res.body.refunded, true);
    const [payment] = await paymentsOf(order.id as string);
    assert.equal(payment?.refundedAmount, order.total);

    const again = await request(service.app)
      .post(`/orders/${order.id as string}/cancel`)
      .set(auth);
    assert.equal(again.status, 200);
    assert.equal((await paymentsOf(order.id as string))[0]?.refundedAmount, order.total);
  });

  it('cancels a failed order without a refund', async () => {
    const { auth } = await customer(world);
    const order = (await place(auth, buildOrder({ cardToken: 'tok_declined' })).expect(201)).body;
    const res = await request(service.app)
      .post(`/orders/${order.id as string}/cancel`)
      .set(auth);
    assert.equal(res.body.status, 'cancelled');
    assert.equal(res.body.refunded, false);
  });
});

describe('order states', () => {
  it('are guarded by the database: a cancelled order cannot become paid again', async () => {
    const { auth } = await customer(world);
    const order = (await place(auth, buildOrder({ cardToken: 'tok_declined' })).expect(201)).body;
    await request(service.app)
      .post(`/orders/${order.id as string}/cancel`)
      .set(auth)
      .expect(200);
    await assert.rejects(
      service.deps.db.query(
        "UPDATE orders SET status = 'paid', payment_id = gen_random_uuid() WHERE id = $1",
        [order.id],
      ),
      /illegal order transition cancelled -> paid/,
    );
    await assert.rejects(
      service.deps.db.query("UPDATE orders SET status = 'pending' WHERE id = $1", [order.id]),
      /illegal order transition/,
    );
  });
});
