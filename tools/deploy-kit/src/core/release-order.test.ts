import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { releaseOrder } from './release-order.ts';

const CALLS = {
  gateway: ['user-service', 'order-service', 'payment-service'],
  'order-service': ['user-service', 'payment-service'],
  'payment-service': ['user-service'],
  'user-service': [],
};

describe('releaseOrder', () => {
  it('releases each service after the services it calls', () => {
    assert.deepEqual(
      releaseOrder(['gateway', 'order-service', 'payment-service', 'user-service'], CALLS),
      ['user-service', 'payment-service', 'order-service', 'gateway'],
    );
  });

  it('orders only the services of the run', () => {
    assert.deepEqual(releaseOrder(['gateway', 'payment-service'], CALLS), [
      'payment-service',
      'gateway',
    ]);
    assert.deepEqual(releaseOrder(['order-service'], CALLS), ['order-service']);
  });

  it('refuses a cycle, naming the services in it', () => {
    assert.throws(() => releaseOrder(['a', 'b'], { a: ['b'], b: ['a'] }), /cycle: a, b/);
  });
});
