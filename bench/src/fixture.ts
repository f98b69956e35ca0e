import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createTestDatabase,
  freePort,
  resolveInfrastructure,
  type Infrastructure,
  type TestDatabase,
} from '@flotilla/testing';
import { BenchProcess } from './processes.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SERVERS = fileURLToPath(new URL('./servers/', import.meta.url));
const DIST = join(ROOT, 'dist/apps');

/** Keep-alive connections from a proxy to its upstream, the same for the gateway and nginx. */
export const UPSTREAM_POOL = 16;

/** The servers a scenario needs; each is started once, on first use, and stopped at the end. */
export class Fixture {
  private readonly dir: string;
  private readonly cpu: number | undefined;
  private readonly nodeArgs: string[];
  private readonly processes: BenchProcess[] = [];
  private readonly started = new Map<string, Promise<unknown>>();
  private infra: Infrastructure | undefined;
  private database: TestDatabase | undefined;

  /** `profileDir`: every Node server writes a V8 CPU profile there when it stops. */
  constructor({
    dir,
    cpu,
    profileDir,
  }: {
    dir: string;
    cpu: number | undefined;
    profileDir?: string | undefined;
  }) {
    this.dir = dir;
    this.cpu = cpu;
    this.nodeArgs = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
    mkdirSync(dir, { recursive: true });
  }

  private once<T>(key: string, start: () => Promise<T>): Promise<T> {
    let pending = this.started.get(key) as Promise<T> | undefined;
    if (!pending) {
      pending = start();
      this.started.set(key, pending);
    }
    return pending;
  }

  private async node(
    name: string,
    args: string[],
    { cwd = ROOT, env = {}, ready }: { cwd?: string; env?: Record<string, string>; ready: string },
  ): Promise<BenchProcess> {
    const proc = await BenchProcess.start(name, process.execPath, [...this.nodeArgs, ...args], {
      cwd,
      env,
      cpu: this.cpu,
      readyUrl: ready,
    });
    this.processes.push(proc);
    return proc;
  }

  /** One of the plain servers in `servers/`: raw, express, kit. */
  server(kind: 'raw' | 'express' | 'kit'): Promise<{ url: string; proc: BenchProcess }> {
    return this.once(kind, async () => {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const proc = await this.node(kind, [join(SERVERS, `${kind}.ts`), String(port)], {
        ready: `${url}/health`,
      });
      return { url, proc };
    });
  }

  /** user-service from its build output, with a registered user and that user's token. */
  userService(): Promise<{ url: string; token: string; proc: BenchProcess }> {
    return this.once('user-service', async () => {
      const system = await this.system();
      const url = `http://127.0.0.1:${await freePort()}`;
      const proc = await this.app('user-service', url, system.userEnv);
      const token = await registerAndLogIn(url);
      return { url, token, proc };
    });
  }

  /**
   * A second user-service, traced, its spans exported to a local OTLP sink: every request sampled,
   * or the share `ratio` of new traces (`parentbased_traceidratio`).
   */
  tracedUserService(ratio?: number): Promise<{ url: string; sink: string; proc: BenchProcess }> {
    return this.once(`user-service-traced-${ratio ?? 'all'}`, async () => {
      const system = await this.system();
      const sinkPort = await freePort();
      const sink = `http://127.0.0.1:${sinkPort}`;
      // The sink stands for a collector on another machine: it runs beside the load generator.
      const sinkProc = await BenchProcess.start(
        'otlp-sink',
        process.execPath,
        [join(SERVERS, 'otlp-sink.ts'), String(sinkPort)],
        { cwd: ROOT, readyUrl: `${sink}/stats` },
      );
      this.processes.push(sinkProc);
      const url = `http://127.0.0.1:${await freePort()}`;
      const proc = await this.app(`user-service-traced-${ratio ?? 'all'}`, url, {
        ...system.userEnv,
        MIGRATE_ON_START: 'false',
        OTEL_EXPORTER_OTLP_ENDPOINT: sink,
        // Without a ratio every request is sampled: the default sampler records all of them.
        ...(ratio === undefined
          ? {}
          : {
              OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
              OTEL_TRACES_SAMPLER_ARG: String(ratio),
            }),
      });
      return { url, sink, proc };
    });
  }

  /** The gateway from its build output, in front of {@link userService}. */
  gateway(): Promise<{ url: string; upstream: string; proc: BenchProcess }> {
    return this.once('gateway', async () => {
      const system = await this.system();
      const users = await this.userService();
      const url = `http://127.0.0.1:${await freePort()}`;
      const proc = await this.app('gateway', url, {
        REDIS_URL: system.redisUrl,
        REDIS_KEY_PREFIX: `${system.prefix}:gateway:`,
        AUTH_JWKS_URL: `${users.url}/.well-known/jwks.json`,
        USER_SERVICE_URL: users.url,
        // Nothing listens there: the benchmark only calls user-service's routes.
        ORDER_SERVICE_URL: 'http://127.0.0.1:9',
        PAYMENT_SERVICE_URL: 'http://127.0.0.1:9',
        UPSTREAM_CONNECTIONS: String(UPSTREAM_POOL),
        // Every request takes its tokens from the limiter; none may be refused while measuring.
        RATE_LIMIT_CLIENT_PER_MINUTE: '1000000000',
        RATE_LIMIT_USER_PER_MINUTE: '1000000000',
        RATE_LIMIT_BURST: '1000000',
      });
      return { url, upstream: users.url, proc };
    });
  }

  /** A bare Node proxy (`servers/proxy.ts`) in front of the same user-service, same pool size. */
  nodeProxy(): Promise<{ url: string; proc: BenchProcess }> {
    return this.once('node-proxy', async () => {
      const users = await this.userService();
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const proc = await this.node(
        'node-proxy',
        [join(SERVERS, 'proxy.ts'), String(port), users.url, String(UPSTREAM_POOL)],
        { ready: `${url}/health` },
      );
      return { url, proc };
    });
  }

  /** nginx from Debian in front of the same user-service: keep-alive upstream, access log on. */
  nginx(): Promise<{ url: string; proc: BenchProcess }> {
    return this.once('nginx', async () => {
      const users = await this.userService();
      const binary = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((path) => existsSync(path));
      if (!binary) throw new Error('nginx is not installed (Debian: apt-get install nginx)');
      const port = await freePort();
      const prefix = join(this.dir, 'nginx');
      mkdirSync(prefix, { recursive: true });
      const upstream = new URL(users.url);
      writeFileSync(
        join(prefix, 'nginx.conf'),
        nginxConfig({ prefix, port, upstream: upstream.host, keepalive: UPSTREAM_POOL }),
      );
      const url = `http://127.0.0.1:${port}`;
      const proc = await BenchProcess.start(
        'nginx',
        binary,
        ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-e', join(prefix, 'error.log')],
        { cpu: this.cpu, readyUrl: `${url}/health` },
      );
      this.processes.push(proc);
      return { url, proc };
    });
  }

  /** The Redis server's process when it runs on this machine (its CPU is part of a request's cost). */
  async redisPids(): Promise<number[]> {
    const { redisUrl } = await this.system();
    const pid = listenerPid(Number(new URL(redisUrl).port || 6379));
    return pid === undefined ? [] : [pid];
  }

  private system(): Promise<{
    redisUrl: string;
    prefix: string;
    userEnv: Record<string, string>;
  }> {
    return this.once('system', async () => {
      for (const app of ['user-service', 'gateway']) {
        if (!existsSync(join(DIST, app, 'main.js')))
          throw new Error(`dist/apps/${app} is missing: run npx nx build ${app} first`);
      }
      this.infra = await resolveInfrastructure();
      this.database = await createTestDatabase(this.infra.databaseUrl, 'bench_users');
      const prefix = `bench_${randomBytes(4).toString('hex')}`;
      const userEnv = {
        DATABASE_URL: this.database.url,
        REDIS_URL: this.infra.redisUrl,
        REDIS_KEY_PREFIX: `${prefix}:users:`,
        MIGRATE_ON_START: 'true',
        JWT_PRIVATE_KEY: generateKeyPairSync('ec', { namedCurve: 'P-256' })
          .privateKey.export({ type: 'pkcs8', format: 'pem' })
          .toString(),
        JWT_KEY_ID: 'bench-key',
      };
      return { redisUrl: this.infra.redisUrl, prefix, userEnv };
    });
  }

  /** An app from its build output, started the way its image starts it, logging at info. */
  private app(name: string, url: string, env: Record<string, string>): Promise<BenchProcess> {
    const app = name.startsWith('user-service') ? 'user-service' : name;
    return this.node(
      name,
      ['--enable-source-maps', '--import', './instrumentation.js', 'main.js'],
      {
        cwd: join(DIST, app),
        env: {
          HOST: '127.0.0.1',
          PORT: new URL(url).port,
          LOG_LEVEL: 'info',
          SHUTDOWN_DRAIN_DELAY_MS: '0',
          SHUTDOWN_IDLE_GRACE_MS: '0',
          ...env,
        },
        ready: `${url}/ready`,
      },
    );
  }

  /** Stops every process it started, then the databases and servers it resolved. */
  async stop(): Promise<void> {
    for (const proc of this.processes.reverse()) await proc.stop();
    await this.database?.drop();
    await this.infra?.stop();
  }
}

async function registerAndLogIn(url: string): Promise<string> {
  const email = `bench-${randomUUID()}@example.com`;
  const password = 'correct horse battery staple';
  const post = (path: string, body: unknown) =>
    fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const registered = await post('/users', { email, password, name: 'Bench User' });
  if (registered.status !== 201)
    throw new Error(`registering the bench user: ${registered.status} ${await registered.text()}`);
  const login = await post('/auth/login', { email, password });
  if (login.status !== 200) throw new Error(`logging in: ${login.status} ${await login.text()}`);
  const { accessToken } = (await login.json()) as { accessToken: string };
  return accessToken;
}

/** nginx with one worker, as a reverse proxy of user-service's routes under `/api`. */
export function nginxConfig({
  prefix,
  port,
  upstream,
  keepalive,
}: {
  prefix: string;
  port: number;
  upstream: string;
  keepalive: number;
}): string {
  return `daemon off;
master_process on;
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 4096; }
http {
  access_log ${prefix}/access.log;
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  keepalive_requests 1000000;
  upstream users {
    server ${upstream};
    keepalive ${keepalive};
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${port};
    location = /health { return 200 'ok'; }
    location /api/ {
      proxy_pass http://users/;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }
  }
}
`;
}

/** The process listening on 127.0.0.1:`port`, from `ss -p`; undefined when not visible. */
function listenerPid(port: number): number | undefined {
  try {
    const out = execFileSync('ss', ['-Hltnp', `( sport = :${port} )`], { encoding: 'utf8' });
    const pid = /pid=(\d+)/.exec(out)?.[1];
    return pid === undefined ? undefined : Number(pid);
  } catch {
    return undefined;
  }
}
