import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { requestFingerprint } from './idempotency.ts';

describe('requestFingerprint', () => {
  it('is the same for bodies that differ only in key order', () => {
    assert.equal(
      requestFingerprint('POST', '/orders', { a: 1, b: [1, { c: 2, d: 3 }] }),
      requestFingerprint('POST', '/orders', { b: [1, { d: 3, c: 2 }], a: 1 }),
    );
  });

  it('differs when the method, the path, a value or the array order differs', () => {
    const base = requestFingerprint('POST', '/orders', { a: [1, 2] });

    assert.notEqual(requestFingerprint('PUT', '/orders', { a: [1, 2] }), base);
    assert.notEqual(requestFingerprint('POST', '/refunds', { a: [1, 2] }), base);
    assert.notEqual(requestFingerprint('POST', '/orders', { a: [1, 3] }), base);
    assert.notEqual(requestFingerprint('POST', '/orders', { a: [2, 1] }), base);
  });

  it('tells an absent body from an empty object', () => {
    assert.notEqual(
      requestFingerprint('POST', '/orders', undefined),
      requestFingerprint('POST', '/orders', {}),
    );
  });
});
