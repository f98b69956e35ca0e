import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  createTestDatabase,
  freePort,
  resolveInfrastructure,
  waitFor,
  type Infrastructure,
  type TestDatabase,
} from '@flotilla/testing';

const DIST = fileURLToPath(new URL('../../dist/apps/', import.meta.url));

/** One service process started from its build output, the way its image starts it. */
class ServiceProcess {
  private child: ChildProcess | undefined;
  private output = '';
  readonly name: string;
  readonly app: string;
  readonly url: string;
  /** Its admin API (fault flags; traffic weights at the gateway), behind the system's token. */
  readonly adminUrl: string;
  private readonly port: number;
  private env: Record<string, string>;

  constructor(
    name: string,
    app: string,
    ports: { port: number; adminPort: number },
    env: Record<string, string>,
  ) {
    this.name = name;
    this.app = app;
    this.port = ports.port;
    this.env = { ...env, ADMIN_PORT: String(ports.adminPort) };
    this.url = `http://127.0.0.1:${ports.port}`;
    this.adminUrl = `http://127.0.0.1:${ports.adminPort}`;
  }

  /** Starts it and waits until `probe` answers 2xx (`/health` for one meant to stay unready). */
  async start(probe: '/ready' | '/health' = '/ready'): Promise<void> {
    const dir = `${DIST}${this.app}`;
    if (!existsSync(`${dir}/main.js`))
      throw new Error(`${dir}/main.js is missing: run nx build ${this.app} first`);
    this.child = spawn(
      process.execPath,
      ['--enable-source-maps', '--import', './instrumentation.js', 'main.js'],
      {
        cwd: dir,
        env: {
          PATH: process.env['PATH'] ?? '',
          HOST: '127.0.0.1',
          PORT: String(this.port),
          LOG_LEVEL: 'warn',
          SHUTDOWN_DRAIN_DELAY_MS: '0',
          ...this.env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-20_000);
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
    try {
      await waitFor(
        `${this.name} ${probe}`,
        async () => {
          if (this.child?.exitCode !== null) throw new Error(`${this.name} exited: ${this.output}`);
          const res = await fetch(`${this.url}${probe}`);
          if (!res.ok) throw new Error(`${probe} ${res.status}`);
        },
        { timeoutMs: 30_000 },
      );
    } catch (err) {
      throw new Error(`${this.name} did not start:\n${this.output}`, { cause: err });
    }
  }

  /** The process id while it runs. */
  get pid(): number | undefined {
    const child = this.child;
    return child && child.exitCode === null && child.signalCode === null ? child.pid : undefined;
  }

  /** The last lines it printed. */
  get recentOutput(): string {
    return this.output;
  }

  /** Stops it (a drain), then starts it again with `env` added to or overriding its environment. */
  async restart(env: Record<string, string>): Promise<void> {
    await this.stop();
    this.env = { ...this.env, ...env };
    await this.start();
  }

  /** Stops it with SIGTERM (a drain), or with SIGKILL (a crash: nothing runs on the way out). */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    await exited;
  }
}

export interface System {
  gateway: string;
  /** Each service's database, for checks that read what was stored. */
  databases: { users: string; orders: string; payments: string };
  /** The gateway's admin API; every service's admin API takes the same token. */
  admin: { url: string; token: string };
  services: Record<string, ServiceProcess>;
  /**
   * Starts another user-service (a "v2") on the same database and key, for traffic shifting;
   * `env` adds to or overrides its environment; `probe` is what must answer before it counts as up.
   */
  /**
   * Sets fault flags on a service through its admin API (`PUT /admin/faults`), or turns them all
   * off with `null` (`DELETE`). Returns the admin API's answer.
   */
  setFaults(service: string, settings: Record<string, unknown> | null): Promise<Response>;
  startUserServiceV2(
    env?: Record<string, string>,
    probe?: '/ready' | '/health',
  ): Promise<ServiceProcess>;
  stop(): Promise<void>;
}

/**
 * The whole system as separate processes from `dist/`: user, payment and order services and the
 * gateway, with PostgreSQL and Redis from the infrastructure resolver and a database each.
 */
export async function startSystem(
  gatewayEnv: Record<string, string> = {},
  options: {
    /** PostgreSQL and Redis to use (left running at stop); else the infrastructure resolver's. */
    infra?: Pick<Infrastructure, 'databaseUrl' | 'redisUrl'>;
    /** Environment added to (or overriding) each service's, by service name. */
    serviceEnv?: Record<string, Record<string, string>>;
    /** Databases to run on (left in place at stop), e.g. restored ones; else fresh ones. */
    databases?: { users: string; orders: string; payments: string };
  } = {},
): Promise<System> {
  const infra = options.infra
    ? { ...options.infra, stop: () => Promise.resolve() }
    : await resolveInfrastructure();
  const extra = (name: string) => options.serviceEnv?.[name] ?? {};
  const databases: TestDatabase[] = [];
  const database = async (name: string) => {
    const db = await createTestDatabase(infra.databaseUrl, `e2e_${name}`);
    databases.push(db);
    return db.url;
  };
  const jwtKey = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();
  const clientSecret = randomBytes(32).toString('base64url');
  const adminToken = randomBytes(32).toString('base64url');
  const ports = {
    users: await freePort(),
    payments: await freePort(),
    orders: await freePort(),
    gateway: await freePort(),
  };
  const withAdmin = async (port: number) => ({ port, adminPort: await freePort() });
  const jwks = `http://127.0.0.1:${ports.users}/.well-known/jwks.json`;
  const usersDb = options.databases?.users ?? (await database('users'));
  const paymentsDb = options.databases?.payments ?? (await database('payments'));
  const ordersDb = options.databases?.orders ?? (await database('orders'));
  const userEnv = (keyPrefix: string) => ({
    DATABASE_URL: usersDb,
    REDIS_URL: infra.redisUrl,
    REDIS_KEY_PREFIX: keyPrefix,
    MIGRATE_ON_START: 'true',
    JWT_PRIVATE_KEY: jwtKey,
    JWT_KEY_ID: 'e2e-key',
    SERVICE_CLIENTS: JSON.stringify({ 'order-service': clientSecret }),
    ADMIN_TOKEN: adminToken,
  });
  const redisPrefix = `e2e_${randomBytes(4).toString('hex')}`;

  const services: Record<string, ServiceProcess> = {
    'user-service': new ServiceProcess(
      'user-service',
      'user-service',
      await withAdmin(ports.users),
      { ...userEnv(`${redisPrefix}:users:`), ...extra('user-service') },
    ),
    'payment-service': new ServiceProcess(
      'payment-service',
      'payment-service',
      await withAdmin(ports.payments),
      {
        ADMIN_TOKEN: adminToken,
        DATABASE_URL: paymentsDb,
        AUTH_JWKS_URL: jwks,
        MIGRATE_ON_START: 'true',
        SANDBOX_SLOW_MS: '500',
        ...extra('payment-service'),
      },
    ),
    'order-service': new ServiceProcess(
      'order-service',
      'order-service',
      await withAdmin(ports.orders),
      {
        ADMIN_TOKEN: adminToken,
        DATABASE_URL: ordersDb,
        AUTH_JWKS_URL: jwks,
        MIGRATE_ON_START: 'true',
        USER_SERVICE_URL: `http://127.0.0.1:${ports.users}`,
        PAYMENT_SERVICE_URL: `http://127.0.0.1:${ports.payments}`,
        SERVICE_CLIENT_SECRET: clientSecret,
        PAYMENT_TIMEOUT_MS: '2000',
        BREAKER_MIN_RPS: '0.2',
        BREAKER_HALF_OPEN_AFTER_MS: '1000',
        RECOVERY_INTERVAL_MS: '500',
        PAYMENT_LEASE_MS: '3000',
        ...extra('order-service'),
      },
    ),
    gateway: new ServiceProcess('gateway', 'gateway', await withAdmin(ports.gateway), {
      REDIS_URL: infra.redisUrl,
      REDIS_KEY_PREFIX: `${redisPrefix}:gateway:`,
      AUTH_JWKS_URL: jwks,
      USER_SERVICE_URL: `http://127.0.0.1:${ports.users}`,
      ORDER_SERVICE_URL: `http://127.0.0.1:${ports.orders}`,
      PAYMENT_SERVICE_URL: `http://127.0.0.1:${ports.payments}`,
      ADMIN_TOKEN: adminToken,
      ...extra('gateway'),
      ...gatewayEnv,
    }),
  };
  const started: ServiceProcess[] = [];
  const stopAll = async () => {
    for (const service of started.reverse()) await service.stop();
    for (const db of databases) await db.drop();
    await infra.stop();
  };
  try {
    for (const service of Object.values(services)) {
      await service.start();
      started.push(service);
    }
  } catch (err) {
    await stopAll();
    throw err;
  }
  return {
    gateway: `http://127.0.0.1:${ports.gateway}`,
    databases: { users: usersDb, orders: ordersDb, payments: paymentsDb },
    admin: { url: services['gateway']?.adminUrl ?? '', token: adminToken },
    services,
    setFaults(service, settings) {
      const target = services[service];
      if (!target) throw new Error(`no service ${service}`);
      return fetch(`${target.adminUrl}/admin/faults`, {
        method: settings === null ? 'DELETE' : 'PUT',
        headers: {
          authorization: `Bearer ${adminToken}`,
          ...(settings === null ? {} : { 'content-type': 'application/json' }),
        },
        ...(settings === null ? {} : { body: JSON.stringify(settings) }),
      });
    },
    async startUserServiceV2(env = {}, probe = '/ready') {
      const v2 = new ServiceProcess(
        'user-service-v2',
        'user-service',
        await withAdmin(await freePort()),
        {
          ...userEnv(`${redisPrefix}:users:`),
          SERVICE_VERSION: 'v2',
          ...env,
        },
      );
      started.push(v2);
      await v2.start(probe);
      return v2;
    },
    stop: stopAll,
  };
}
