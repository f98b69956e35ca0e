import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { gatewayClient } from '../src/client.ts';
import { startSystem, type System } from '../src/system.ts';

let system: System;
before(async () => {
  system = await startSystem({
    RATE_LIMIT_CLIENT_PER_MINUTE: '1000000',
    RATE_LIMIT_USER_PER_MINUTE: '1000000',
  });
});
after(async () => {
  await system?.stop();
});

const { api, newCustomer, placeOrder } = gatewayClient(() => system.gateway);

/** Sets (PUT) or clears (DELETE) a service's fault flags and expects the admin API to accept. */
async function setFaults(service: string, method: 'PUT' | 'DELETE', body?: unknown) {
  const res = await system.setFaults(
    service,
    method === 'DELETE' ? null : (body as Record<string, unknown>),
  );
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as Record<string, unknown>;
}

describe('fault flags, set at run time through each service admin API', () => {
  afterEach(async () => {
    for (const service of ['user-service', 'payment-service', 'order-service', 'gateway'])
      await setFaults(service, 'DELETE');
  });

  it('error rate 100% on order-service: orders fail with 503 FAULT_INJECTED, users still work', async () => {
    const { token } = await newCustomer();
    await setFaults('order-service', 'PUT', { errorRatePercent: 100 });
    const listed = await api('GET', '/orders', { token });
    assert.equal(listed.status, 503);
    assert.equal(listed.body['code'], 'FAULT_INJECTED');
    assert.equal((await api('GET', '/users/me', { token })).status, 200);

    await setFaults('order-service', 'DELETE');
    assert.equal((await api('GET', '/orders', { token })).status, 200);
  });

  it('error rate 50% fails about half of the requests, never the probes', async () => {
    const { token } = await newCustomer();
    await setFaults('order-service', 'PUT', { errorRatePercent: 50 });
    const statuses: number[] = [];
    for (let i = 0; i < 80; i++) statuses.push((await api('GET', '/orders', { token })).status);
    const failed = statuses.filter((status) => status === 503).length;
    assert.deepEqual([...new Set(statuses)].sort(), [200, 503]);
    // Binomial(80, 0.5): outside 20..60 has a probability below 1e-5.
    assert.ok(failed >= 20 && failed <= 60, `${failed} of 80 failed`);
    const orders = system.services['order-service'];
    for (let i = 0; i < 10; i++) {
      assert.equal((await fetch(`${orders?.url}/health`)).status, 200);
      assert.equal((await fetch(`${orders?.url}/ready`)).status, 200);
    }
  });

  it('a payment outage injected on payment-service makes orders fail cleanly, then recover', async () => {
    const { token } = await newCustomer();
    await setFaults('payment-service', 'PUT', { errorRatePercent: 100 });
    const failed = await placeOrder(token);
    assert.ok(failed.status >= 500, `status ${failed.status}`);
    assert.ok(['PAYMENT_UNAVAILABLE', 'FAULT_INJECTED'].includes(failed.body['code'] as string));

    await setFaults('payment-service', 'DELETE');
    // The breaker may be open for a moment after the outage; a fresh order is paid once it closes.
    let placed = await placeOrder(token);
    for (let i = 0; i < 20 && placed.status !== 201; i++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      placed = await placeOrder(token);
    }
    assert.equal(placed.status, 201);
    assert.equal(placed.body['status'], 'paid');
  });

  it('added latency on user-service slows its API through the gateway by at least that much', async () => {
    const { token } = await newCustomer();
    await setFaults('user-service', 'PUT', { latencyMs: 600 });
    const started = performance.now();
    const me = await api('GET', '/users/me', { token });
    const elapsed = performance.now() - started;
    assert.equal(me.status, 200);
    assert.ok(elapsed >= 600, `took ${elapsed.toFixed(0)} ms`);
  });

  it('failing readiness takes a service out of /ready (503) and back in', async () => {
    const payments = system.services['payment-service'];
    await setFaults('payment-service', 'PUT', { failReadiness: true });
    const ready = await fetch(`${payments?.url}/ready`);
    assert.equal(ready.status, 503);
    const report = (await ready.json()) as { checks: Record<string, { status: string }> };
    assert.equal(report.checks['fault-injection']?.status, 'down');
    assert.equal((await fetch(`${payments?.url}/health`)).status, 200);

    await setFaults('payment-service', 'DELETE');
    assert.equal((await fetch(`${payments?.url}/ready`)).status, 200);
  });

  it('the gateway has the flags too: 503 FAULT_INJECTED before any upstream is called', async () => {
    await setFaults('gateway', 'PUT', { errorRatePercent: 100 });
    const res = await api('POST', '/auth/login', {
      body: { email: 'a@example.com', password: 'x' },
    });
    assert.equal(res.status, 503);
    assert.equal(res.body['code'], 'FAULT_INJECTED');
  });

  it('the admin API refuses a wrong token and bad settings', async () => {
    const orders = system.services['order-service'];
    const wrong = await fetch(`${orders?.adminUrl}/admin/faults`, {
      headers: { authorization: 'Bearer not-the-token' },
    });
    assert.equal(wrong.status, 401);
    const bad = await fetch(`${orders?.adminUrl}/admin/faults`, {
      method: 'PUT',
      headers: {
        authorization: `Bearer ${system.admin.token}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ errorRatePercent: 150 }),
    });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { code: string }).code, 'VALIDATION_FAILED');
  });
});

describe('fault flags from the environment', () => {
  it('a service started with FAULT_ERROR_RATE=100 fails its API and keeps its probes', async () => {
    const v2 = await system.startUserServiceV2({ FAULT_ERROR_RATE: '100' });
    assert.equal((await fetch(`${v2.url}/ready`)).status, 200);
    const res = await fetch(`${v2.url}/users/me`);
    assert.equal(res.status, 503);
    assert.equal(((await res.json()) as { code: string }).code, 'FAULT_INJECTED');
  });

  it('a service started with FAULT_READINESS_FAIL=true is alive but not ready', async () => {
    const v2 = await system.startUserServiceV2({ FAULT_READINESS_FAIL: 'true' }, '/health');
    const ready = await fetch(`${v2.url}/ready`);
    assert.equal(ready.status, 503);
    const report = (await ready.json()) as { checks: Record<string, { status: string }> };
    assert.equal(report.checks['fault-injection']?.status, 'down');
  });
});
