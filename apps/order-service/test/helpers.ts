import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '@flotilla/config';
import { runMigrations } from '@flotilla/db';
import { createLogger } from '@flotilla/logging';
import {
  createTestDatabase,
  freePort,
  resolveInfrastructure,
  startTestIssuer,
  waitFor,
  type Infrastructure,
  type TestDatabase,
  type TestIssuer,
} from '@flotilla/testing';
import { createOrderService } from '../src/app.ts';
import { configSchema } from '../src/config.ts';
import { createDependencies, type Dependencies } from '../src/dependencies.ts';

const MIGRATIONS_DIR = fileURLToPath(new URL('../src/migrations', import.meta.url));
const PAYMENT_SERVICE_DIR = fileURLToPath(new URL('../../payment-service', import.meta.url));
export const ORDER_SERVICE_DIR = fileURLToPath(new URL('..', import.meta.url));
export const CLIENT_SECRET = 'order-service-test-secret-0123456789';

/**
 * A stand-in for user-service at the HTTP boundary: the client credentials grant (tokens signed by
 * the test issuer) and user lookups for the ids in `known`.
 */
export async function startFakeUserService(issuer: TestIssuer) {
  const known = new Set<string>();
  const server: Server = createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/auth/token') {
      void issuer
        .issue({ userId: 'order-service', role: 'service' }, { expiresInSeconds: 300 })
        .then((accessToken) => {
          res
            .writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify({ accessToken, tokenType: 'Bearer', expiresIn: 300 }));
        });
      return;
    }
    const match = /^\/users\/([^/]+)$/.exec(req.url ?? '');
    if (req.method === 'GET' && match?.[1]) {
      const found = known.has(decodeURIComponent(match[1]));
      res
        .writeHead(found ? 200 : 404, { 'content-type': 'application/json' })
        .end(JSON.stringify(found ? { id: match[1] } : { code: 'USER_NOT_FOUND' }));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    known,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The real payment-service, as its own process, on a database of its own. */
export async function startPaymentService(
  database: TestDatabase,
  issuer: TestIssuer,
  env: Record<string, string> = {},
) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn(process.execPath, ['--import', './src/instrumentation.ts', 'src/main.ts'], {
      cwd: PAYMENT_SERVICE_DIR,
      env: {
        PATH: process.env['PATH'] ?? '',
        DATABASE_URL: database.url,
        AUTH_JWKS_URL: issuer.jwksUrl,
        PORT: String(port),
        HOST: '127.0.0.1',
        MIGRATE_ON_START: 'true',
        SHUTDOWN_DRAIN_DELAY_MS: '0',
        LOG_LEVEL: 'warn',
        ...env,
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    await waitFor('payment-service /ready', async () => {
      const res = await fetch(`${url}/ready`);
      if (!res.ok) throw new Error(`ready ${res.status}`);
    });
  };
  const stop = async () => {
    if (!child || child.exitCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  };
  await start();
  return { url, start, stop };
}

export type PaymentService = Awaited<ReturnType<typeof startPaymentService>>;
export type FakeUserService = Awaited<ReturnType<typeof startFakeUserService>>;

/** Everything order-service talks to, real where it matters: PostgreSQL, payment-service, a JWKS. */
export interface World {
  infra: Infrastructure;
  orderDb: TestDatabase;
  paymentDb: TestDatabase;
  issuer: TestIssuer;
  users: FakeUserService;
  payments: PaymentService;
  stop(): Promise<void>;
}

export async function startWorld(paymentEnv: Record<string, string> = {}): Promise<World> {
  const infra = await resolveInfrastructure();
  const orderDb = await createTestDatabase(infra.databaseUrl, 'orders');
  const paymentDb = await createTestDatabase(infra.databaseUrl, 'payments');
  const issuer = await startTestIssuer();
  const users = await startFakeUserService(issuer);
  const payments = await startPaymentService(paymentDb, issuer, {
    SANDBOX_SLOW_MS: '1500',
    ...paymentEnv,
  });
  await runMigrations({ databaseUrl: orderDb.url, dir: MIGRATIONS_DIR, log: () => undefined });
  return {
    infra,
    orderDb,
    paymentDb,
    issuer,
    users,
    payments,
    async stop() {
      await payments.stop();
      await users.stop();
      await issuer.stop();
      await orderDb.drop();
      await paymentDb.drop();
      await infra.stop();
    },
  };
}

/** The env order-service needs to live in `world`. */
export function orderServiceEnv(
  world: World,
  overrides: Record<string, string> = {},
): Record<string, string> {
  return {
    DATABASE_URL: world.orderDb.url,
    AUTH_JWKS_URL: world.issuer.jwksUrl,
    USER_SERVICE_URL: world.users.url,
    PAYMENT_SERVICE_URL: world.payments.url,
    SERVICE_CLIENT_SECRET: CLIENT_SECRET,
    LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent',
    ...overrides,
  };
}

/** order-service in this process, wired as main.ts wires it; the recovery job is run by hand. */
export async function startOrderService(world: World, overrides: Record<string, string> = {}) {
  const config = loadConfig('order-service', configSchema, orderServiceEnv(world, overrides));
  const deps: Dependencies = await createDependencies(
    config,
    createLogger({ service: 'order-service', level: config.LOG_LEVEL }),
  );
  const { app, recovery } = createOrderService(deps);
  return {
    app,
    deps,
    recovery,
    async stop() {
      for (const resource of [...deps.resources].reverse()) await resource.close();
    },
  };
}

/** A new registered user and the Authorization header of their token. */
export async function customer(world: World, userId = crypto.randomUUID()) {
  world.users.known.add(userId);
  return { userId, auth: { Authorization: `Bearer ${await world.issuer.issue({ userId })}` } };
}

/** A service token, to look at payment-service the way order-service does. */
export async function serviceAuth(world: World) {
  return {
    Authorization: `Bearer ${await world.issuer.issue({ userId: 'order-service', role: 'service' })}`,
  };
}

export function buildOrder(overrides: Record<string, unknown> = {}) {
  return {
    items: [
      { sku: 'BOOK-1', quantity: 2, unitPrice: 1999 },
      { sku: 'PEN-7', quantity: 1, unitPrice: 500 },
    ],
    currency: 'EUR',
    cardToken: 'tok_visa',
    ...overrides,
  };
}
