import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';

/**
 * Calls through the gateway, the only door a client has, plus the purchase-flow steps the suites
 * share. `gateway` gives the gateway URL once the system is up.
 */
export function gatewayClient(gateway: () => string) {
  /** A call through the gateway, the only door a client has. */
  async function api(
    method: string,
    path: string,
    {
      token,
      body,
      headers = {},
    }: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
  ) {
    const res = await fetch(`${gateway()}/api${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return {
      status: res.status,
      headers: res.headers,
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON replies, checked by the assertions
      body: (text ? JSON.parse(text) : undefined) as Record<string, any>,
    };
  }

  async function newCustomer() {
    const email = `e2e-${randomUUID()}@example.com`;
    const password = 'correct horse battery staple';
    const registered = await api('POST', '/users', {
      body: { email, password, name: 'E2E Customer' },
    });
    assert.equal(registered.status, 201);
    const login = await api('POST', '/auth/login', { body: { email, password } });
    assert.equal(login.status, 200);
    return { id: registered.body['id'] as string, token: login.body['accessToken'] as string };
  }

  const order = (cardToken = 'tok_visa') => ({
    items: [{ sku: 'TEA-1', quantity: 3, unitPrice: 450 }],
    currency: 'EUR',
    cardToken,
  });
  const placeOrder = (token: string, body = order(), key: string = randomUUID()) =>
    api('POST', '/orders', { token, body, headers: { 'idempotency-key': key } });

  return { api, newCustomer, order, placeOrder };
}
