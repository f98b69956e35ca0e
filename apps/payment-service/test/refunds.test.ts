import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { buildCharge, startService, type ServiceUnderTest } from './helpers.ts';

let service: ServiceUnderTest;
let svc: Record<string, string>;

before(async () => {
  service = await startService();
  const { headers: auth } = await service.auth({ userId: 'order-service', role: 'service' });
  svc = auth;
});
after(async () => {
  await service.stop();
});

async function capture(overrides: Record<string, unknown> = {}) {
  const res = await request(service.app)
    .post('/payments')
    .set(svc)
    .set('Idempotency-Key', randomUUID())
    .send(buildCharge({ userId: randomUUID(), amount: 100, ...overrides }))
    .expect(201);
  return res.body as { id: string; status: string };
}

const refund = (paymentId: string, amount: unknown, auth = svc) =>
  request(service.app).post(`/payments/${paymentId}/refunds`).set(auth).send({ amount });

describe('POST /payments/:id/refunds', () => {
  it('refunds partially, then the rest, and shows the refunds on the payment', async () => {
    const payment = await capture();
    const first = await refund(payment.id, 30);
    assert.equal(first.status, 201);
    assert.equal(first.body.amount, 30);
    assert.equal(first.body.payment.refundedAmount, 30);

    await refund(payment.id, 70).expect(201);
    const after = await request(service.app).get(`/payments/${payment.id}`).set(svc).expect(200);
    assert.equal(after.body.refundedAmount, 100);
    assert.deepEqual(
      after.body.refunds.map((r: { amount: number }) => r.amount),
      [30, 70],
    );
  });

  it('refuses a refund beyond the captured amount with 409', async () => {
    const payment = await capture();
    await refund(payment.id, 60).expect(201);
    const res = await refund(payment.id, 41);
    assert.equal(res.status, 409);
    assert.equal(res.body.code, 'REFUND_EXCEEDS_CAPTURED');
  });

  it('never exceeds the captured amount under concurrent refunds', async () => {
    const payment = await capture();
    const replies = await Promise.all(Array.from({ length: 10 }, () => refund(payment.id, 30)));
    const statuses = replies.map((r) => r.status).sort();
    assert.deepEqual(statuses, [201, 201, 201, 409, 409, 409, 409, 409, 409, 409]);
    const { rows } = await service.deps.db.query<{ refunded_amount: string }>(
      'SELECT refunded_amount FROM payments WHERE id = $1',
      [payment.id],
    );
    assert.equal(Number(rows[0]?.refunded_amount), 90);
  });

  it('is enforced by the database itself', async () => {
    const payment = await capture();
    await assert.rejects(
      service.deps.db.query('UPDATE payments SET refunded_amount = amount + 1 WHERE id = $1', [
        payment.id,
      ]),
      /payments_refunds_within_captured/,
    );
  });

  it('refuses to refund a declined payment', async () => {
    const payment = await capture({ cardToken: 'tok_declined' });
    const res = await refund(payment.id, 10);
    assert.equal(res.status, 409);
    assert.equal(res.body.code, 'PAYMENT_NOT_REFUNDABLE');
  });

  it('replays a keyed refund instead of refunding twice', async () => {
    const payment = await capture();
    const send = () =>
      request(service.app)
        .post(`/payments/${payment.id}/refunds`)
        .set(svc)
        .set('Idempotency-Key', 'refund-once')
        .send({ amount: 40 });
    const first = await send();
    const second = await send();
    assert.equal(first.status, 201);
    assert.deepEqual(second.body, first.body);
    const { rows } = await service.deps.db.query<{ n: string }>(
      'SELECT count(*) AS n FROM refunds WHERE payment_id = $1',
      [payment.id],
    );
    assert.equal(Number(rows[0]?.n), 1);
  });

  it('lets only services and admins refund, and validates the amount', async () => {
    const payment = await capture();
    const { headers: user } = await service.auth();
    assert.equal((await refund(payment.id, 10, user)).status, 403);
    assert.equal((await refund(payment.id, -5)).status, 400);
    assert.equal((await refund(payment.id, 'ten')).status, 400);
    assert.equal((await refund(randomUUID(), 10)).status, 404);
  });
});
