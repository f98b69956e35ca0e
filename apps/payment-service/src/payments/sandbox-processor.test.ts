import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError } from '@flotilla/http';
import { createSandboxProcessor } from './sandbox-processor.ts';
import { createPaymentBody } from './payments.schemas.ts';

const charge = { amount: 100, currency: 'EUR' };

describe('sandbox card processor', () => {
  it('approves, declines, fails and delays by test token', async () => {
    const delays: number[] = [];
    const processor = createSandboxProcessor({
      slowMs: 1234,
      sleep: (ms) => {
        delays.push(ms);
        return Promise.resolve();
      },
    });
    assert.deepEqual(await processor.charge({ ...charge, cardToken: 'tok_visa' }), {
      approved: true,
    });
    assert.deepEqual(await processor.charge({ ...charge, cardToken: 'tok_declined' }), {
      approved: false,
      reason: 'card_declined',
    });
    assert.deepEqual(await processor.charge({ ...charge, cardToken: 'tok_unknown' }), {
      approved: false,
      reason: 'unknown_card',
    });
    await assert.rejects(
      processor.charge({ ...charge, cardToken: 'tok_error' }),
      (err: unknown) => {
        assert.ok(err instanceof AppError);
        assert.equal(err.status, 502);
        assert.equal(err.code, 'PROCESSOR_UNAVAILABLE');
        return true;
      },
    );
    assert.deepEqual(await processor.charge({ ...charge, cardToken: 'tok_slow' }), {
      approved: true,
    });
    assert.deepEqual(delays, [1234]);
  });
});

describe('payment input', () => {
  const valid = {
    orderId: '8c7e2a51-2f0c-4a7e-9d2b-1f0e6a0c9b11',
    amount: 1999,
    currency: 'JPY',
    cardToken: 'tok_visa',
  };

  it('accepts integer minor units in an ISO 4217 currency', () => {
    assert.equal(createPaymentBody.safeParse(valid).success, true);
  });

  it('refuses fractions, unsafe integers and unknown currencies', () => {
    for (const bad of [
      { amount: 19.99 },
      { amount: Number.MAX_SAFE_INTEGER + 2 },
      { currency: 'ABC' },
      { currency: 'usd' },
    ]) {
      assert.equal(
        createPaymentBody.safeParse({ ...valid, ...bad }).success,
        false,
        JSON.stringify(bad),
      );
    }
  });
});
