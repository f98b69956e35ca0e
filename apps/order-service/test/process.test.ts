import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { freePort, waitFor } from '@flotilla/testing';
import {
  ORDER_SERVICE_DIR,
  buildOrder,
  customer,
  orderServiceEnv,
  serviceAuth,
  startWorld,
  type World,
} from './helpers.ts';

let world: World;
let db: pg.Client;
before(async () => {
  world = await startWorld({ SANDBOX_SLOW_MS: '1500' });
  db = new pg.Client({ connectionString: world.orderDb.url });
  await db.connect();
});
after(async () => {
  await db.end();
  await world.stop();
});

function startProcess(env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', './src/instrumentation.ts', 'src/main.ts'], {
    cwd: ORDER_SERVICE_DIR,
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

async function ready(base: string) {
  await waitFor('order-service /ready', async () => {
    const res = await fetch(`${base}/ready`);
    if (!res.ok) throw new Error(`ready ${res.status}`);
  });
}

describe('a crash between "order stored" and "payment answered"', () => {
  it('neither leaves the order pending forever nor charges twice', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const env = orderServiceEnv(world, {
      PORT: String(port),
      HOST: '127.0.0.1',
      MIGRATE_ON_START: 'true',
      RECOVERY_INTERVAL_MS: '200',
      PAYMENT_LEASE_MS: '1000',
      SHUTDOWN_DRAIN_DELAY_MS: '0',
    });
    const { auth } = await customer(world);
    let child = startProcess(env);
    try {
      await ready(base);
      // tok_slow keeps payment-service busy for 1.5 s: the order is stored, the charge in flight.
      const placing = fetch(`${base}/orders`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json', 'idempotency-key': 'crash-1' },
        body: JSON.stringify(buildOrder({ cardToken: 'tok_slow' })),
      }).catch((err: unknown) => err);
      await waitFor(
        'the order to be stored',
        async () => {
          const { rowCount } = await db.query(
            "SELECT 1 FROM orders WHERE idempotency_key = 'crash-1'",
          );
          if (rowCount !== 1) throw new Error('not yet');
        },
        { intervalMs: 20 },
      );
      await sleep(100);
      const killed = once(child, 'exit');
      child.kill('SIGKILL');
      await killed;
      assert.ok((await placing) instanceof Error, 'the client saw the connection die');
      const { rows } = await db.query<{ id: string; status: string }>(
        "SELECT id, status FROM orders WHERE idempotency_key = 'crash-1'",
      );
      const orderId = rows[0]?.id ?? '';
      assert.equal(rows[0]?.status, 'pending');

      child = startProcess(env);
      await ready(base);
      await waitFor(
        'the recovery job to settle the order',
        async () => {
          const { rows: now } = await db.query<{ status: string }>(
            'SELECT status FROM orders WHERE id = $1',
            [orderId],
          );
          if (now[0]?.status !== 'paid') throw new Error(`status ${now[0]?.status}`);
        },
        { timeoutMs: 20_000, intervalMs: 100 },
      );

      const payments = await fetch(`${world.payments.url}/payments?orderId=${orderId}`, {
        headers: await serviceAuth(world),
      });
      assert.equal(
        ((await payments.json()) as { items: unknown[] }).items.length,
        1,
        'charged exactly once',
      );
    } finally {
      child.kill('SIGKILL');
    }
  });
});
