// What the reliability suite shares: the system on PostgreSQL and Redis of its own (so that they
// can be taken away without touching anyone else's), load from tools/loadgen, probes, and the
// checks on the databases that prove nothing was lost or charged twice.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { runLoad, type Report } from '@flotilla/loadgen';
import { startLocalPostgres, startLocalRedis, type RestartableServer } from '@flotilla/testing';
import pg from 'pg';
import { gatewayClient } from './client.ts';
import { startSystem, type System } from './system.ts';

export interface Rig {
  system: System;
  postgres: RestartableServer;
  redis: RestartableServer;
  client: ReturnType<typeof gatewayClient>;
  /**
   * Makes the system whole again before a case: PostgreSQL and Redis running, every service
   * running with no fault flag on, and all of them ready. A case that failed half-way (a server
   * left halted, a service left dead, a latency fault left on) then fails alone, not every case
   * after it. Says what it had to mend; nothing when the case before passed.
   */
  heal(): Promise<string[]>;
  stop(): Promise<void>;
}

/** The system from build output on a durable PostgreSQL and a Redis that only it uses. */
export async function startRig(): Promise<Rig> {
  const postgres = await startLocalPostgres({ durable: true });
  const redis = await startLocalRedis();
  let system: System;
  try {
    system = await startSystem(
      {
        // The load comes from one client and a handful of users: limits are not under test here.
        RATE_LIMIT_CLIENT_PER_MINUTE: '10000000',
        RATE_LIMIT_USER_PER_MINUTE: '10000000',
        RATE_LIMIT_BURST: '100000',
      },
      {
        infra: { databaseUrl: postgres.url, redisUrl: redis.url },
        serviceEnv: {
          // Long enough open to measure the fast path, short enough to recover in seconds.
          // A short sampling window, so that an outage opens the breaker whatever came before.
          'order-service': { BREAKER_HALF_OPEN_AFTER_MS: '3000', BREAKER_SAMPLING_MS: '2000' },
        },
      },
    );
  } catch (err) {
    await redis.stop();
    await postgres.stop();
    throw err;
  }
  return {
    system,
    postgres,
    redis,
    client: gatewayClient(() => system.gateway),
    async heal() {
      const mended: string[] = [];
      for (const [name, server] of [
        ['PostgreSQL', postgres],
        ['Redis', redis],
      ] as const) {
        if (server.running) continue;
        await server.resume();
        mended.push(`${name} started`);
      }
      for (const [name, one] of Object.entries(system.services)) {
        if (one.pid === undefined) {
          await one.start();
          mended.push(`${name} started`);
        }
        const flags = await fetch(`${one.adminUrl}/admin/faults`, {
          headers: { authorization: `Bearer ${system.admin.token}` },
        });
        const faults = (await flags.json()) as {
          errorRatePercent: number;
          latencyMs: number;
          failReadiness: boolean;
        };
        if (faults.errorRatePercent > 0 || faults.latencyMs > 0 || faults.failReadiness) {
          assert.equal((await system.setFaults(name, null)).status, 200);
          mended.push(`${name}'s fault flags turned off`);
        }
        await until(`${name} ready`, async () => (await readyStatus(one.url)) === 200);
      }
      return mended;
    },
    async stop() {
      await system.stop();
      await redis.stop();
      await postgres.stop();
    },
  };
}

export const say = (line: string) => process.stdout.write(`[reliability] ${line}\n`);

/** Load through the gateway with the purchase flow's mix, for `seconds`. */
export function load(rig: Rig, seconds: number, rate = 15): Promise<Report> {
  return runLoad({
    target: rig.system.gateway,
    rate,
    durationMs: seconds * 1000,
    mix: { visa: 80, declined: 10, browse: 10 },
    users: 5,
    concurrency: 100,
    timeoutMs: 10_000,
    minSuccess: 0,
  });
}

/**
 * The failed load requests of a report by reason (`503 PAYMENT_UNAVAILABLE`, `timeout`,
 * `201 status=pending`).
 */
export function failuresByStatus(report: Report): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, count] of Object.entries(report.failures)) {
    const reason = key.slice(key.indexOf(': ') + 2);
    out[reason] = (out[reason] ?? 0) + count;
  }
  return out;
}

export function describeReport(report: Report): string {
  const failures = failuresByStatus(report);
  const listed = Object.entries(failures)
    .map(([status, count]) => `${status} x ${count}`)
    .join(', ');
  return `requests ${report.requests.completed}, failed ${report.requests.failed}${listed ? ` (${listed})` : ''}, p99 ${report.latencyMs.p99?.toFixed(0)} ms`;
}

/** Polls `check` every `everyMs` until it returns true; resolves with the time it took. */
export async function until(
  what: string,
  check: () => Promise<boolean>,
  { timeoutMs = 30_000, everyMs = 100 } = {},
): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await check().catch(() => false)) return performance.now() - started;
    if (performance.now() - started > timeoutMs)
      throw new Error(`${what}: not true after ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}

/** A request with its status, content type and time. */
export async function timed(url: string, init: RequestInit = {}) {
  const started = performance.now();
  const res = await fetch(url, init);
  const text = await res.text();
  return {
    status: res.status,
    type: res.headers.get('content-type') ?? '',
    ms: performance.now() - started,
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON replies, checked by the callers
    body: (text.startsWith('{') ? JSON.parse(text) : {}) as Record<string, any>,
    headers: res.headers,
  };
}

export const readyStatus = async (url: string) => (await fetch(`${url}/ready`)).status;

/** A customer of its own, and a way to order as them (an order through the gateway). */
export async function buyer(rig: Rig) {
  const customer = await rig.client.newCustomer();
  return {
    ...customer,
    order: (cardToken = 'tok_visa') =>
      timed(`${rig.system.gateway}/api/orders`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${customer.token}`,
          'content-type': 'application/json',
          'idempotency-key': randomUUID(),
        },
        body: JSON.stringify(rig.client.order(cardToken)),
      }),
  };
}

async function rows<R extends pg.QueryResultRow>(url: string, sql: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(sql)).rows;
  } finally {
    await client.end();
  }
}

export interface Books {
  orders: number;
  paid: number;
  failed: number;
  cancelled: number;
  charges: number;
  declines: number;
}

/**
 * Waits until no order is pending (the recovery window), then checks the two databases against
 * each other: every order is paid, failed or cancelled; every paid order has exactly one captured
 * charge, of its amount, and every charge belongs to an order; no order was charged twice.
 */
export async function checkBooks(
  rig: Rig,
  { windowMs = 30_000 }: { windowMs?: number } = {},
): Promise<Books & { settledInMs: number }> {
  const settledInMs = await until(
    'no order pending',
    async () =>
      (
        await rows<{ n: string }>(
          rig.system.databases.orders,
          "SELECT count(*) AS n FROM orders WHERE status = 'pending'",
        )
      )[0]?.n === '0',
    { timeoutMs: windowMs, everyMs: 250 },
  );
  const orders = await rows<{
    id: string;
    status: string;
    payment_id: string | null;
    total: string;
  }>(rig.system.databases.orders, 'SELECT id, status, payment_id, total FROM orders');
  const payments = await rows<{ id: string; order_id: string; status: string; amount: string }>(
    rig.system.databases.payments,
    'SELECT id, order_id, status, amount FROM payments',
  );
  const byOrder = new Map<string, (typeof payments)[number][]>();
  for (const payment of payments)
    byOrder.set(payment.order_id, [...(byOrder.get(payment.order_id) ?? []), payment]);
  const orderIds = new Set(orders.map((o) => o.id));
  for (const order of orders) {
    assert.ok(
      ['paid', 'payment_failed', 'cancelled'].includes(order.status),
      `order ${order.id} is ${order.status}`,
    );
    const charges = byOrder.get(order.id) ?? [];
    assert.ok(charges.length <= 1, `order ${order.id} has ${charges.length} payments`);
    if (order.status === 'paid') {
      assert.equal(charges[0]?.status, 'captured', `paid order ${order.id} has its charge`);
      assert.equal(charges[0]?.id, order.payment_id);
      assert.equal(charges[0]?.amount, order.total);
    }
    if (order.status === 'payment_failed')
      assert.notEqual(charges[0]?.status, 'captured', `failed order ${order.id} was charged`);
  }
  for (const payment of payments)
    assert.ok(orderIds.has(payment.order_id), `payment ${payment.id} has no order`);
  const captured = payments.filter((p) => p.status === 'captured').length;
  const paid = orders.filter((o) => o.status === 'paid').length;
  assert.equal(captured, paid, 'charges == paid orders');
  return {
    settledInMs,
    orders: orders.length,
    paid,
    failed: orders.filter((o) => o.status === 'payment_failed').length,
    cancelled: orders.filter((o) => o.status === 'cancelled').length,
    charges: captured,
    declines: payments.filter((p) => p.status === 'declined').length,
  };
}

/** The orders with these ids, and which of them are missing. */
export async function missingOrders(rig: Rig, ids: readonly string[]): Promise<string[]> {
  const found = new Set(
    (await rows<{ id: string }>(rig.system.databases.orders, 'SELECT id FROM orders')).map(
      (r) => r.id,
    ),
  );
  return ids.filter((id) => !found.has(id));
}

export interface Footprint {
  /** Resident memory, bytes. */
  rss: number;
  /**
   * V8's old space in use, bytes: what a leak grows. RSS also grows as the young generation takes
   * the room V8 gives it on a machine with memory to spare (up to 128 MiB on 24 GiB), which is
   * not a leak.
   */
  oldSpace: number;
  fds: number;
}

/** Resident memory and open file descriptors from /proc, the old space from the process's metrics. */
export async function processFootprint(pid: number, url: string): Promise<Footprint> {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
  const metrics = await (await fetch(`${url}/metrics`)).text();
  const oldSpace = /^nodejs_heap_space_size_used_bytes\{space="old"[^}]*\} (\d+)/m.exec(
    metrics,
  )?.[1];
  assert.ok(oldSpace, `${url}/metrics has nodejs_heap_space_size_used_bytes{space="old"}`);
  return { rss: kb * 1024, oldSpace: Number(oldSpace), fds: readdirSync(`/proc/${pid}/fd`).length };
}
