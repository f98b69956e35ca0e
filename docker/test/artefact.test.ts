// What the runtime stage of docker/Dockerfile ships, run for real: each app's build output
// (dist/apps/<app>: bundle, pruned package.json and lockfile, migrations) installed in a clean
// directory with `npm ci --omit=dev`, owned by root and started with plain node as an
// unprivileged numeric user, against real PostgreSQL and Redis.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, copyFile, cp, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  createTestDatabase,
  freePort,
  resolveInfrastructure,
  waitFor,
  type Infrastructure,
  type TestDatabase,
} from '@flotilla/testing';

const DIST = fileURLToPath(new URL('../../dist/apps/', import.meta.url));
/** The user the image runs as (docker/Dockerfile `USER 10001:10001`). */
const APP_UID = 10001;
const runAsAppUser = process.getuid?.() === 0;
/** OpenTelemetry packages an image may hold: the trace SDK, OTLP/HTTP and the instrumentations used. */
const ALLOWED_OTEL = new Set([
  'api',
  'context-async-hooks',
  'core',
  'exporter-trace-otlp-http',
  'instrumentation',
  'instrumentation-http',
  'instrumentation-ioredis',
  'instrumentation-pg',
  'instrumentation-undici',
  'otlp-exporter-base',
  'otlp-transformer',
  'redis-common',
  'resources',
  'sdk-logs',
  'sdk-metrics',
  'sdk-trace',
  'semantic-conventions',
  'sql-common',
]);
const DEV_ONLY = [
  'typescript',
  'eslint',
  'nx',
  'esbuild',
  'prettier',
  'supertest',
  'testcontainers',
];

const run = promisify(execFile);
let infra: Infrastructure;
const databases: TestDatabase[] = [];
const sizes: string[] = [];
/** The node binary, where the app user can run it (as /usr/local/bin/node in the image). */
let nodeBinary = process.execPath;
let nodeDir: string | undefined;

before(async () => {
  infra = await resolveInfrastructure();
  if (runAsAppUser) {
    nodeDir = await mkdtemp(join(tmpdir(), 'flotilla-node-'));
    await chmod(nodeDir, 0o755);
    nodeBinary = join(nodeDir, 'node');
    await copyFile(process.execPath, nodeBinary);
    await chmod(nodeBinary, 0o755);
  }
});
after(async () => {
  if (nodeDir) await rm(nodeDir, { recursive: true, force: true });
  for (const db of databases) await db.drop();
  await infra?.stop();
  if (sizes.length > 0)
    process.stdout.write(`\nproduction node_modules per app:\n${sizes.join('\n')}\n`);
});

async function directorySize(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

/** The app's build output installed as the runtime stage installs it, in a fresh directory. */
async function install(app: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `flotilla-${app}-`));
  await chmod(dir, 0o755);
  await cp(join(DIST, app), dir, { recursive: true });
  await run(
    'npm',
    ['ci', '--omit=dev', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund'],
    {
      cwd: dir,
      env: { ...process.env, npm_config_loglevel: 'error' },
    },
  );
  return dir;
}

/** Runs node in the installed app as the image's user, with only the given environment. */
function startNode(dir: string, args: string[], env: Record<string, string>) {
  return spawn(nodeBinary, args, {
    cwd: dir,
    env: { PATH: process.env['PATH'] ?? '', HOME: '/nonexistent', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(runAsAppUser ? { uid: APP_UID, gid: APP_UID } : {}),
  });
}

async function runToEnd(dir: string, args: string[], env: Record<string, string>) {
  const child = startNode(dir, args, env);
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, output };
}

interface AppCase {
  app: string;
  database: boolean;
  env: (urls: { db: string; redis: string }) => Record<string, string>;
}

const unreachable = 'http://127.0.0.1:9';
const CASES: AppCase[] = [
  {
    app: 'user-service',
    database: true,
    env: ({ db, redis }) => ({
      DATABASE_URL: db,
      REDIS_URL: redis,
      REDIS_KEY_PREFIX: 'artefact:users:',
    }),
  },
  {
    app: 'payment-service',
    database: true,
    env: ({ db }) => ({ DATABASE_URL: db, AUTH_JWKS_URL: `${unreachable}/jwks.json` }),
  },
  {
    app: 'order-service',
    database: true,
    env: ({ db }) => ({
      DATABASE_URL: db,
      AUTH_JWKS_URL: `${unreachable}/jwks.json`,
      USER_SERVICE_URL: unreachable,
      PAYMENT_SERVICE_URL: unreachable,
      SERVICE_CLIENT_SECRET: 'artefact-test-secret-0123456789abcdef',
    }),
  },
  {
    app: 'gateway',
    database: false,
    env: ({ redis }) => ({
      REDIS_URL: redis,
      REDIS_KEY_PREFIX: 'artefact:gateway:',
      AUTH_JWKS_URL: `${unreachable}/jwks.json`,
      USER_SERVICE_URL: unreachable,
      ORDER_SERVICE_URL: unreachable,
      PAYMENT_SERVICE_URL: unreachable,
    }),
  },
];

describe('the runtime artefact of each app', { concurrency: true }, () => {
  for (const { app, database, env } of CASES) {
    it(`${app}: installs with npm ci --omit=dev and answers /ready as uid ${APP_UID}`, async (t) => {
      const dir = await install(app);
      t.after(() => rm(dir, { recursive: true, force: true }));

      const modules = join(dir, 'node_modules');
      for (const pkg of DEV_ONLY) {
        await assert.rejects(stat(join(modules, pkg)), `${pkg} (a dev dependency) was installed`);
      }
      const otel = await readdir(join(modules, '@opentelemetry'));
      assert.deepEqual(
        otel.filter((name) => !ALLOWED_OTEL.has(name)),
        [],
      );
      const bytes = await directorySize(modules);
      sizes.push(
        `  ${app.padEnd(16)} ${(bytes / 2 ** 20).toFixed(1)} MiB, ${(await readdir(modules)).length} top-level entries`,
      );

      let db = '';
      if (database) {
        const created = await createTestDatabase(
          infra.databaseUrl,
          `artefact_${app.replace('-', '_')}`,
        );
        databases.push(created);
        db = created.url;
        const migrated = await runToEnd(dir, ['migrate.js'], { DATABASE_URL: db });
        assert.equal(migrated.code, 0, migrated.output);
        assert.match(migrated.output, /applied \d+ migration/);
      }

      const port = await freePort();
      const child = startNode(
        dir,
        ['--enable-source-maps', '--import', './instrumentation.js', 'main.js'],
        {
          ...env({ db, redis: infra.redisUrl }),
          HOST: '127.0.0.1',
          PORT: String(port),
          LOG_LEVEL: 'warn',
          SHUTDOWN_DRAIN_DELAY_MS: '0',
        },
      );
      let output = '';
      child.stdout.on('data', (c: Buffer) => (output += c.toString()));
      child.stderr.on('data', (c: Buffer) => (output += c.toString()));
      const exited = once(child, 'exit');
      try {
        await waitFor(
          `${app} /ready`,
          async () => {
            if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}: ${output}`);
            const res = await fetch(`http://127.0.0.1:${port}/ready`);
            if (res.status !== 200) throw new Error(`/ready ${res.status}: ${await res.text()}`);
          },
          { timeoutMs: 30_000 },
        );
        assert.equal((await fetch(`http://127.0.0.1:${port}/health`)).status, 200);
        const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        assert.match(metrics, /^http_server_requests_total/m);
      } finally {
        child.kill('SIGTERM');
      }
      const [code] = (await exited) as [number | null];
      assert.equal(code, 0, `exit on SIGTERM: ${output}`);
    });
  }
});
