import { randomBytes, randomUUID } from 'node:crypto';
import { RELEASE_TOKEN_HEADER } from '@flotilla/http';
import type { Progress } from './platforms/platform.ts';

/** The header that pins a request to one version of a service at the gateway. */
export const VERSION_HEADER = 'x-flotilla-version';

interface Call {
  method: string;
  path: string;
  body?: unknown;
  token?: string;
  pin?: string;
  expect: number;
  headers?: Record<string, string>;
}

/**
 * A smoke test through the gateway: the calls a user makes, the ones that reach the service under
 * release pinned to its new version (`x-flotilla-version`), each expected to answer as it should.
 * For the gateway itself, `pin` is undefined and every call goes through whichever gateway serves.
 * Each call carries the kit's token (`releaseToken`), so the gateway's rate limits never refuse
 * it: what it judges is the version's answer. Throws with the first call that did not answer as
 * it should, and what it answered.
 */
export async function smokeTest(
  gateway: string,
  service: string,
  pin: string | undefined,
  progress: Progress,
  releaseToken?: string,
): Promise<void> {
  const call = async ({ method, path, body, token, pin: pinned, expect, headers }: Call) => {
    const res = await fetch(`${gateway}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(pinned ? { [VERSION_HEADER]: pinned } : {}),
        ...(releaseToken ? { [RELEASE_TOKEN_HEADER]: releaseToken } : {}),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    if (res.status !== expect) {
      throw new Error(
        `${method} ${path}${pinned ? ` (pinned to ${pinned})` : ''} answered ${res.status}, expected ${expect}: ${text.slice(0, 300)}`,
      );
    }
    progress(`${method} ${path} ${res.status}`);
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  };
  const on = (name: string) => (service === name ? pin : undefined);

  const email = `smoke-${randomBytes(6).toString('hex')}@example.com`;
  const password = randomBytes(12).toString('base64url');
  await call({
    method: 'POST',
    path: '/api/users',
    body: { email, password, name: 'Release smoke test' },
    pin: on('user-service'),
    expect: 201,
  });
  const login = await call({
    method: 'POST',
    path: '/api/auth/login',
    body: { email, password },
    pin: on('user-service'),
    expect: 200,
  });
  const token = String(login['accessToken']);
  if (service === 'user-service' || service === 'gateway') {
    await call({
      method: 'GET',
      path: '/api/users/me',
      token,
      pin: on('user-service'),
      expect: 200,
    });
  }
  if (service === 'payment-service') {
    await call({
      method: 'GET',
      path: `/api/payments?orderId=${randomUUID()}`,
      token,
      pin,
      expect: 200,
    });
  }
  if (service === 'order-service' || service === 'gateway') {
    const order = await call({
      method: 'POST',
      path: '/api/orders',
      token,
      pin: on('order-service'),
      headers: { 'idempotency-key': `smoke-${randomUUID()}` },
      body: {
        items: [{ sku: 'SMOKE-1', quantity: 1, unitPrice: 100 }],
        currency: 'EUR',
        cardToken: 'tok_visa',
      },
      expect: 201,
    });
    if (order['status'] !== 'paid')
      throw new Error(`a smoke order ended ${String(order['status'])}, not paid`);
    await call({
      method: 'GET',
      path: `/api/orders/${String(order['id'])}`,
      token,
      pin: on('order-service'),
      expect: 200,
    });
  }
}
