import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SCENARIOS, createMixPicker, formatMix } from './scenarios.ts';

/** A random source that returns the given values in turn. */
const sequence = (...values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length] ?? 0;
};

describe('createMixPicker', () => {
  it('maps the random number onto the weights in scenario order', () => {
    const pick = createMixPicker(
      { visa: 90, declined: 10 },
      sequence(0, 0.5, 0.899, 0.9, 0.95, 0.999),
    );
    assert.deepEqual(
      Array.from({ length: 6 }, () => pick()),
      ['visa', 'visa', 'visa', 'declined', 'declined', 'declined'],
    );
  });

  it('never picks a scenario with weight 0 or missing', () => {
    const pick = createMixPicker({ visa: 0, browse: 3 }, sequence(0, 0.5, 0.99));
    assert.deepEqual([pick(), pick(), pick()], ['browse', 'browse', 'browse']);
  });

  it('follows the weights over many picks', () => {
    const steps = 1000;
    // Evenly spread points 0, 0.001, ..., 0.999: exactly the weights' shares land on each.
    let counter = -1;
    const pick = createMixPicker({ visa: 70, declined: 20, browse: 10 }, () => {
      counter = (counter + 1) % steps;
      return counter / steps;
    });
    const counts = { visa: 0, declined: 0, browse: 0 };
    for (let i = 0; i < steps; i++) counts[pick()]++;
    assert.deepEqual(counts, { visa: 700, declined: 200, browse: 100 });
  });

  it('stays within the mix when random returns 1', () => {
    const pick = createMixPicker({ visa: 1, declined: 1 }, () => 1);
    assert.equal(pick(), 'declined');
  });

  it('refuses a mix without a positive weight', () => {
    assert.throws(() => createMixPicker({ visa: 0 }), RangeError);
  });

  it('spells the mix like the flag, zero weights left out', () => {
    assert.equal(formatMix({ declined: 10, visa: 90, browse: 0 }), 'visa=90,declined=10');
  });
});

describe('SCENARIOS', () => {
  it('sends an order with the card, the bearer token and the idempotency key', () => {
    const spec = SCENARIOS.declined.request('tkn', 'key-1');
    assert.deepEqual(spec, {
      method: 'POST',
      path: '/api/orders',
      headers: { authorization: 'Bearer tkn', 'idempotency-key': 'key-1' },
      body: {
        items: [{ sku: 'TEA-1', quantity: 2, unitPrice: 450 }],
        currency: 'EUR',
        cardToken: 'tok_declined',
      },
    });
    assert.equal(
      (SCENARIOS.visa.request('t', 'k').body as { cardToken: string }).cardToken,
      'tok_visa',
    );
  });

  it('expects a paid order for visa', () => {
    assert.equal(SCENARIOS.visa.failureOf({ status: 201, body: { status: 'paid' } }), undefined);
    assert.equal(
      SCENARIOS.visa.failureOf({ status: 201, body: { status: 'payment_failed' } }),
      '201 status=payment_failed',
    );
    assert.equal(SCENARIOS.visa.failureOf({ status: 503, body: {} }), '503');
  });

  it('expects 201 with payment_failed for a declined card, as order-service answers', () => {
    assert.equal(
      SCENARIOS.declined.failureOf({ status: 201, body: { status: 'payment_failed' } }),
      undefined,
    );
    assert.equal(
      SCENARIOS.declined.failureOf({ status: 201, body: { status: 'paid' } }),
      '201 status=paid',
    );
    assert.equal(SCENARIOS.declined.failureOf({ status: 402, body: {} }), '402');
    assert.equal(
      SCENARIOS.declined.failureOf({ status: 201, body: undefined }),
      '201 status=undefined',
    );
  });

  it('expects a page of orders for browse', () => {
    assert.equal(SCENARIOS.browse.request('t', 'k').method, 'GET');
    assert.equal(SCENARIOS.browse.failureOf({ status: 200, body: { items: [] } }), undefined);
    assert.equal(SCENARIOS.browse.failureOf({ status: 200, body: {} }), '200 without items');
    assert.equal(SCENARIOS.browse.failureOf({ status: 429, body: {} }), '429');
  });

  it("names the problem's code of an unexpected answer, when it has a well-formed one", () => {
    assert.equal(
      SCENARIOS.visa.failureOf({ status: 503, body: { code: 'USER_SERVICE_UNAVAILABLE' } }),
      '503 USER_SERVICE_UNAVAILABLE',
    );
    assert.equal(
      SCENARIOS.browse.failureOf({ status: 429, body: { code: 'RATE_LIMITED' } }),
      '429 RATE_LIMITED',
    );
    assert.equal(SCENARIOS.visa.failureOf({ status: 500, body: { code: 42 } }), '500');
    assert.equal(SCENARIOS.visa.failureOf({ status: 502, body: { code: 'a b\nc' } }), '502');
    assert.equal(SCENARIOS.visa.failureOf({ status: 502, body: 'Bad Gateway' }), '502');
  });
});
