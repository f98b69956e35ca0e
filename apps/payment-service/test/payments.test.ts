import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { buildCharge, startService, type ServiceUnderTest } from './helpers.ts';

let service: ServiceUnderTest;

before(async () => {
  service = await startService();
});
after(async () => {
  await service.stop();
});

async function countPayments(orderId: string): Promise<number> {
  const { rows } = await service.deps.db.query<{ n: string }>(
    'SELECT count(*) AS n FROM payments WHERE order_id = $1',
    [orderId],
  );
  return Number(rows[0]?.n);
}

const charge = (auth: Record<string, string>, body: unknown, key: string = randomUUID()) =>
  request(service.app)
    .post('/payments')
    .set(auth)
    .set('Idempotency-Key', key)
    .send(body as object);

describe('POST /payments', () => {
  it('captures a charge with tok_visa', async () => {
    const { headers: auth, userId } = await service.auth();
    const body = buildCharge();
    const res = await charge(auth, body);

    assert.equal(res.status, 201);
    assert.equal(res.body.status, 'captured');
    assert.equal(res.body.amount, 2599);
    assert.equal(res.body.currency, 'EUR');
    assert.equal(res.body.orderId, body.orderId);
    assert.equal(res.body.userId, userId);
    assert.equal(res.body.refundedAmount, 0);
    assert.equal(res.headers['idempotent-replayed'], 'false');
  });

  it('declines tok_declined with a reason', async () => {
    const { headers: auth } = await service.auth();
    const res = await charge(auth, buildCharge({ cardToken: 'tok_declined' }));
    assert.equal(res.status, 201);
    assert.equal(res.body.status, 'declined');
    assert.equal(res.body.declineReason, 'card_declined');
  });

  it('answers tok_error like a processor outage and stores nothing', async () => {
    const { headers: auth } = await service.auth();
    const body = buildCharge({ cardToken: 'tok_error' });
    const res = await charge(auth, body);
    assert.equal(res.status, 502);
    assert.equal(res.body.code, 'PROCESSOR_UNAVAILABLE');
    assert.equal(await countPayments(body.orderId), 0);
  });

  it('approves tok_slow after the configured delay', async () => {
    const { headers: auth } = await service.auth();
    const started = Date.now();
    const res = await charge(auth, buildCharge({ cardToken: 'tok_slow' }));
    assert.equal(res.status, 201);
    assert.equal(res.body.status, 'captured');
    assert.ok(Date.now() - started >= 300);
  });

  it('requires an Idempotency-Key', async () => {
    const { headers: auth } = await service.auth();
    const res = await request(service.app).post('/payments').set(auth).send(buildCharge());
    assert.equal(res.status, 400);
    assert.equal(res.body.code, 'IDEMPOTENCY_KEY_REQUIRED');
  });

  it('refuses bad money, currency and ids with 400 and the failing fields', async () => {
    const { headers: auth } = await service.auth();
    const cases: [Record<string, unknown>, string][] = [
      [{ amount: 10.5 }, 'body.amount'],
      [{ amount: -1 }, 'body.amount'],
      [{ amount: 0 }, 'body.amount'],
      [{ amount: '100' }, 'body.amount'],
      [{ amount: 2 ** 60 }, 'body.amount'],
      [{ currency: 'eur' }, 'body.currency'],
      [{ currency: 'XYZ' }, 'body.currency'],
      [{ orderId: 'order-1' }, 'body.orderId'],
      [{ cardToken: '4242424242424242' }, 'body.cardToken'],
    ];
    for (const [override, path] of cases) {
      const res = await charge(auth, buildCharge(override));
      assert.equal(res.status, 400, JSON.stringify(override));
      assert.ok(
        res.body.errors.some((e: { path: string }) => e.path === path),
        `${JSON.stringify(override)} -> ${JSON.stringify(res.body.errors)}`,
      );
    }
  });

  it('refuses an Idempotency-Key with control characters or over 255 characters', async () => {
    const { headers: auth } = await service.auth();
    for (const key of ['x'.repeat(256), 'bad key']) {
      const res = await charge(auth, buildCharge(), key);
      assert.equal(res.status, 400, key.slice(0, 10));
    }
  });

  it('returns 401 without a token', async () => {
    const res = await request(service.app)
      .post('/payments')
      .set('Idempotency-Key', 'k')
      .send(buildCharge());
    assert.equal(res.status, 401);
  });
});

describe('idempotency', () => {
  it('replays the first reply for a retry with the same key and body', async () => {
    const { headers: auth } = await service.auth();
    const body = buildCharge();
    const first = await charge(auth, body, 'retry-key-1');
    const second = await charge(auth, body, 'retry-key-1');

    assert.equal(second.status, first.status);
    assert.deepEqual(second.body, first.body);
    assert.equal(second.headers['idempotent-replayed'], 'true');
    assert.equal(await countPayments(body.orderId), 1);
  });

  it('replays an error reply too', async () => {
    const { headers: auth } = await service.auth();
    const body = buildCharge({ cardToken: 'tok_error' });
    const first = await charge(auth, body, 'error-key');
    const second = await charge(auth, body, 'error-key');
    assert.equal(first.status, 502);
    assert.equal(second.status, 502);
    assert.deepEqual(second.body, first.body);
    assert.equal(second.headers['idempotent-replayed'], 'true');
  });

  it('refuses the same key with a different body with 422 IDEMPOTENCY_KEY_REUSED', async () => {
    const { headers: auth } = await service.auth();
    const body = buildCharge();
    await charge(auth, body, 'reused-key').expect(201);
    const res = await charge(auth, { ...body, amount: 1 }, 'reused-key');
    assert.equal(res.status, 422);
    assert.equal(res.body.code, 'IDEMPOTENCY_KEY_REUSED');
    assert.equal(await countPayments(body.orderId), 1);
  });

  it('charges exactly once for 20 concurrent requests with one key, with identical replies', async () => {
    const { headers: auth } = await service.auth();
    const body = buildCharge({ cardToken: 'tok_slow' });
    const replies = await Promise.all(
      Array.from({ length: 20 }, () => charge(auth, body, 'concurrent-key')),
    );

    assert.equal(await countPayments(body.orderId), 1);
    for (const reply of replies) {
      assert.equal(reply.status, 201);
      assert.deepEqual(reply.body, replies[0]?.body);
    }
    assert.equal(replies.filter((r) => r.headers['idempotent-replayed'] === 'false').length, 1);
  });

  it('keeps keys per caller: two users may use the same key', async () => {
    const { headers: alice } = await service.auth();
    const { headers: bob } = await service.auth();
    const a = await charge(alice, buildCharge(), 'shared-key');
    const b = await charge(bob, buildCharge(), 'shared-key');
    assert.equal(a.status, 201);
    assert.equal(b.status, 201);
    assert.notEqual(a.body.id, b.body.id);
  });

  it('keeps keys for at least 24 hours', async () => {
    const { headers: auth, userId } = await service.auth();
    await charge(auth, buildCharge(), 'kept-key').expect(201);
    const { rows } = await service.deps.db.query<{ hours: number }>(
      `SELECT extract(epoch FROM expires_at - created_at) / 3600 AS hours FROM idempotency_keys WHERE scope = $1 AND key = 'kept-key'`,
      [userId],
    );
    assert.ok(Number(rows[0]?.hours) >= 24, `kept ${rows[0]?.hours} hours`);
  });
});

describe('GET /payments/:id and GET /payments?orderId=', () => {
  it('shows a payment to its owner, a service and an admin, not to another user', async () => {
    const { headers: owner } = await service.auth();
    const created = (await charge(owner, buildCharge()).expect(201)).body;
    const { headers: other } = await service.auth();
    const { headers: svc } = await service.auth({ userId: 'order-service', role: 'service' });
    const { headers: admin } = await service.auth({ role: 'admin' });

    for (const auth of [owner, svc, admin]) {
      const res = await request(service.app)
        .get(`/payments/${created.id as string}`)
        .set(auth);
      assert.equal(res.status, 200);
      assert.equal(res.body.id, created.id);
    }
    const denied = await request(service.app)
      .get(`/payments/${created.id as string}`)
      .set(other);
    assert.equal(denied.status, 403);
  });

  it('404s an unknown payment', async () => {
    const { headers: auth } = await service.auth();
    const res = await request(service.app).get(`/payments/${randomUUID()}`).set(auth);
    assert.equal(res.status, 404);
    assert.equal(res.body.code, 'PAYMENT_NOT_FOUND');
  });

  it("lists an order's payments", async () => {
    const { headers: auth } = await service.auth();
    const body = buildCharge();
    await charge(auth, body).expect(201);
    const res = await request(service.app)
      .get('/payments')
      .query({ orderId: body.orderId })
      .set(auth)
      .expect(200);
    assert.equal(res.body.items.length, 1);
    assert.equal(res.body.items[0].orderId, body.orderId);
  });
});

describe('charging on behalf of a user', () => {
  it('lets a service charge for the user it names', async () => {
    const { headers: svc } = await service.auth({ userId: 'order-service', role: 'service' });
    const customer = randomUUID();
    const res = await charge(svc, buildCharge({ userId: customer }));
    assert.equal(res.status, 201);
    assert.equal(res.body.userId, customer);
  });

  it('requires a service to name the user, and forbids users to charge for others', async () => {
    const { headers: svc } = await service.auth({ userId: 'order-service', role: 'service' });
    const withoutUser = await charge(svc, buildCharge());
    assert.equal(withoutUser.status, 400);

    const { headers: user } = await service.auth();
    const forOther = await charge(user, buildCharge({ userId: randomUUID() }));
    assert.equal(forOther.status, 403);
  });
});
