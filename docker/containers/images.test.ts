// Each app's image as `npx nx docker-build <app>` made it, inspected and run with a real Docker
// engine: its user, its files, its labels, its HEALTHCHECK, its drain on SIGTERM and its migration
// command. PostgreSQL and Redis run beside it as containers (POSTGRES_IMAGE, REDIS_IMAGE).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { imageRef, imageRegistry, nodeImage } from '@flotilla/scripts/image';
import { SERVICES } from '@flotilla/scripts/services';
import { ROOT, docker, mib, nodeBaseImage, run, until } from './docker.ts';

/** The user docker/Dockerfile runs as. */
const APP_USER = '10001:10001';
/** compose's stop_grace_period: SIGTERM must end the app well inside it. */
const GRACE_SECONDS = 35;
/** What an app may add on top of its base image (bundle, migrations, production node_modules). */
const APP_LAYER_BUDGET = 24 * 2 ** 20;
const DEV_ONLY = [
  'typescript',
  'eslint',
  'nx',
  'esbuild',
  'prettier',
  'supertest',
  'testcontainers',
];

const git = (...args: string[]) =>
  execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
const revision = git('rev-parse', 'HEAD');
const dirty = git('status', '--porcelain').length > 0;
nodeImage(process.env); // a bad NODE_IMAGE fails here, as it fails docker-build
const base = nodeBaseImage();
const suffix = randomBytes(3).toString('hex');
const network = `flotilla-images-${suffix}`;
const postgres = `flotilla-images-pg-${suffix}`;
const redis = `flotilla-images-redis-${suffix}`;
const PASSWORD = 'images-test-only';
const started: string[] = [];
const figures: string[] = [];
let baseSize = 0;

const refOf = (app: string, port: number) =>
  imageRef({ app, port, revision, dirty, registry: imageRegistry(process.env), source: '' });

before(async () => {
  baseSize = Number(await docker(['image', 'inspect', '--format', '{{.Size}}', base]));
  await docker(['network', 'create', network]);
  started.push(
    await docker([
      'run',
      '--detach',
      '--name',
      postgres,
      '--network',
      network,
      '--env',
      `POSTGRES_PASSWORD=${PASSWORD}`,
      '--tmpfs',
      '/var/lib/postgresql/data',
      process.env['POSTGRES_IMAGE'] || 'postgres:17.7-alpine',
    ]),
    await docker([
      'run',
      '--detach',
      '--name',
      redis,
      '--network',
      network,
      process.env['REDIS_IMAGE'] || 'redis:7.4.6-alpine',
    ]),
  );
  await until('PostgreSQL answers', async () => {
    const ready = await run(['exec', postgres, 'pg_isready', '-h', '127.0.0.1', '-U', 'postgres']);
    return ready.code === 0 ? true : undefined;
  });
});

after(async () => {
  for (const id of started.reverse()) await run(['rm', '--force', '--volumes', id]);
  await run(['network', 'rm', network]);
  if (figures.length > 0) {
    process.stdout.write(
      `\nimage sizes (base ${base}: ${mib(baseSize)}; app layer budget ${mib(APP_LAYER_BUDGET)}):\n${figures.join('\n')}\n`,
    );
  }
});

/** Runs a node script in the image (its entrypoint is node) and parses what it prints as JSON. */
async function nodeIn(image: string, script: string): Promise<Record<string, unknown>> {
  return JSON.parse(await docker(['run', '--rm', image, '-e', script])) as Record<string, unknown>;
}

const psql = (database: string, sql: string) =>
  docker(['exec', postgres, 'psql', '-U', 'postgres', '-d', database, '-tAc', sql]);

/** What each app needs to start; other services are unreachable on purpose (/health needs none). */
function envOf(app: string, database: string): Record<string, string> {
  const db = `postgres://postgres:${PASSWORD}@${postgres}:5432/${database}`;
  const nowhere = 'http://127.0.0.1:9';
  const common = { LOG_LEVEL: 'info', SHUTDOWN_DRAIN_DELAY_MS: '2000' };
  switch (app) {
    case 'user-service':
      return { ...common, DATABASE_URL: db, REDIS_URL: `redis://${redis}:6379` };
    case 'payment-service':
      return { ...common, DATABASE_URL: db, AUTH_JWKS_URL: `${nowhere}/jwks.json` };
    case 'order-service':
      return {
        ...common,
        DATABASE_URL: db,
        AUTH_JWKS_URL: `${nowhere}/jwks.json`,
        USER_SERVICE_URL: nowhere,
        PAYMENT_SERVICE_URL: nowhere,
        SERVICE_CLIENT_SECRET: 'images-test-only-secret-0123456789',
      };
    default:
      return {
        ...common,
        REDIS_URL: `redis://${redis}:6379`,
        AUTH_JWKS_URL: `${nowhere}/jwks.json`,
        USER_SERVICE_URL: nowhere,
        ORDER_SERVICE_URL: nowhere,
        PAYMENT_SERVICE_URL: nowhere,
      };
  }
}

/** compose's hardening for the services: read-only root, no capabilities, no privilege gain. */
const HARDENED = [
  '--init',
  '--read-only',
  '--tmpfs',
  '/tmp',
  '--cap-drop',
  'ALL',
  '--security-opt',
  'no-new-privileges:true',
];
const envArgs = (env: Record<string, string>) =>
  Object.entries(env).flatMap(([key, value]) => ['--env', `${key}=${value}`]);

for (const { name: app, port, database } of SERVICES) {
  describe(`the ${app} image`, () => {
    const image = refOf(app, port);
    const db = `images_${app.replace('-', '_')}`;
    let config: {
      User: string;
      Labels: Record<string, string>;
      Healthcheck?: { Test: string[] };
      StopSignal?: string;
    };

    before(async () => {
      const inspected = await run(['image', 'inspect', '--format', '{{json .Config}}', image]);
      assert.equal(
        inspected.code,
        0,
        `${image} is missing: build it with npx nx docker-build ${app}`,
      );
      config = JSON.parse(inspected.stdout) as typeof config;
    });

    it(`runs as ${APP_USER} and carries the commit in its OCI labels`, async () => {
      assert.equal(config.User, APP_USER);
      assert.equal(config.Labels['org.opencontainers.image.revision'], revision);
      assert.equal(config.Labels['org.opencontainers.image.version'], image.split(':').at(-1));
      assert.equal(config.Labels['org.opencontainers.image.title'], `flotilla-${app}`);
      const ids = await nodeIn(
        image,
        'console.log(JSON.stringify({uid: process.getuid(), gid: process.getgid()}))',
      );
      assert.deepEqual(ids, { uid: 10001, gid: 10001 });
    });

    it('cannot change its own files', async () => {
      const writes = await nodeIn(
        image,
        `const fs = require('node:fs'); const r = {};
         for (const [k, f] of [['file', '/app/main.js'], ['dir', '/app/new.js'], ['modules', '/app/node_modules/pg/package.json']])
           try { fs.appendFileSync(f, ''); r[k] = 'written'; } catch (e) { r[k] = e.code; }
         console.log(JSON.stringify(r));`,
      );
      assert.deepEqual(writes, { file: 'EACCES', dir: 'EACCES', modules: 'EACCES' });
    });

    it('ships its bundle and production dependencies only: no dev dependencies, tests, sources or maps', async () => {
      const { files, lock } = (await nodeIn(
        image,
        `const fs = require('node:fs');
         const files = fs.readdirSync('/app', { recursive: true, withFileTypes: true })
           .filter((e) => e.isFile()).map((e) => (e.parentPath + '/' + e.name).slice('/app/'.length));
         console.log(JSON.stringify({ files, lock: JSON.parse(fs.readFileSync('/app/package-lock.json', 'utf8')) }));`,
      )) as { files: string[]; lock: { packages: Record<string, { dev?: boolean }> } };
      const own = files.filter((f) => !f.startsWith('node_modules/'));
      const modules = files.filter((f) => f.startsWith('node_modules/'));
      for (const file of own) {
        assert.match(
          file,
          /^((main|instrumentation|migrate|chunk-[A-Z0-9]+)\.js(\.map)?|package(-lock)?\.json|migrations\/[\w-]+\.sql)$/,
          `${app} ships ${file}`,
        );
      }
      assert.ok(own.includes('main.js.map'), 'its own source maps, for --enable-source-maps');
      assert.deepEqual(
        modules.filter((f) =>
          /\.(map|[cm]?ts)$|(^|\/)(test|tests|__tests__)\/|\.(test|spec)\.[cm]?js$/.test(f),
        ),
        [],
      );
      const installed = new Set(
        modules.map((f) => /^(node_modules\/(@[^/]+\/)?[^/]+)\//.exec(f)?.[1]).filter(Boolean),
      );
      const locked = Object.entries(lock.packages).filter(([key]) =>
        /^node_modules\/(@[^/]+\/)?[^/]+$/.test(key),
      );
      assert.deepEqual(
        locked.filter(([, entry]) => entry.dev).map(([key]) => key),
        [],
      );
      assert.deepEqual([...installed].sort(), locked.map(([key]) => key).sort());
      for (const name of DEV_ONLY)
        assert.ok(!installed.has(`node_modules/${name}`), `${name} is installed`);
    });

    it('keeps its layer over the base image under the budget', async () => {
      const size = Number(await docker(['image', 'inspect', '--format', '{{.Size}}', image]));
      const layer = size - baseSize;
      figures.push(`  ${app.padEnd(16)} image ${mib(size)}, app layer ${mib(layer)}`);
      assert.ok(layer > 0 && layer < APP_LAYER_BUDGET, `${app}: app layer ${mib(layer)}`);
    });

    if (database) {
      it('applies its migrations with migrate.js as the command, and again finds nothing to do', async () => {
        await psql('postgres', `CREATE DATABASE ${db}`);
        const migrate = [
          'run',
          '--rm',
          ...HARDENED,
          '--network',
          network,
          ...envArgs({ DATABASE_URL: envOf(app, db)['DATABASE_URL']! }),
          image,
          'migrate.js',
        ];
        const first = await run(migrate);
        assert.equal(first.code, 0, first.stderr + first.stdout);
        assert.match(first.stdout, /applied \d+ migration\(s\)/);
        assert.ok(Number(await psql(db, 'SELECT count(*) FROM schema_migrations')) >= 1);
        const second = await run(migrate);
        assert.equal(second.code, 0, second.stderr);
        assert.match(second.stdout, /database is up to date/);
      });
    }

    it(`turns healthy by its HEALTHCHECK, then drains on SIGTERM and exits 0 within ${GRACE_SECONDS} s`, async () => {
      assert.match(config.Healthcheck?.Test.join(' ') ?? '', /\/health/);
      assert.equal(config.StopSignal, 'SIGTERM');
      const name = `flotilla-images-${app}-${suffix}`;
      started.push(
        await docker([
          'run',
          '--detach',
          '--name',
          name,
          ...HARDENED,
          '--network',
          network,
          '--publish',
          `127.0.0.1::${port}`,
          ...envArgs(envOf(app, db)),
          image,
        ]),
      );
      const t0 = Date.now();
      await until(
        `${app} healthy`,
        async () => {
          const state = JSON.parse(
            await docker(['inspect', '--format', '{{json .State}}', name]),
          ) as {
            Status: string;
            Health?: { Status: string };
          };
          if (state.Status !== 'running' || state.Health?.Status === 'unhealthy') {
            throw new Error(
              `${state.Status}/${state.Health?.Status}: ${(await run(['logs', name])).stdout}`,
            );
          }
          return state.Health?.Status === 'healthy' ? true : undefined;
        },
        { timeoutMs: 90_000 },
      );
      const healthyAfter = Date.now() - t0;
      const published = await docker(['port', name, String(port)]);
      assert.match(published, /^127\.0\.0\.1:\d+$/m);
      const url = `http://${published.split('\n')[0]}`;
      assert.equal((await fetch(`${url}/ready`)).status, 200);

      const stopping = Date.now();
      const stop = run(['stop', '--time', String(GRACE_SECONDS), name], {
        timeoutMs: (GRACE_SECONDS + 30) * 1000,
      });
      const seen = new Set<number | string>();
      while (!seen.has(503) && Date.now() - stopping < 5000) {
        seen.add(
          await fetch(`${url}/ready`).then(
            (r) => r.status,
            () => 'closed',
          ),
        );
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.equal((await stop).code, 0);
      const stoppedAfter = Date.now() - stopping;
      const state = JSON.parse(await docker(['inspect', '--format', '{{json .State}}', name])) as {
        ExitCode: number;
        OOMKilled: boolean;
      };
      const logs = await run(['logs', name]);
      assert.ok(seen.has(503), `/ready answered 503 while draining (saw ${[...seen].join(', ')})`);
      assert.equal(state.ExitCode, 0, logs.stdout + logs.stderr);
      assert.match(logs.stdout, /draining: readiness is now 503/);
      assert.match(logs.stdout, /shutdown complete/);
      figures.push(
        `  ${app.padEnd(16)} healthy after ${(healthyAfter / 1000).toFixed(1)} s, stopped in ${(stoppedAfter / 1000).toFixed(1)} s (exit 0)`,
      );
    });
  });
}
