// .gitlab-ci.yml checked by gitlab-ci-local: GitLab's schema, the jobs each pipeline source gets
// from GitLab's rules, and the merge request pipeline's test stage run for real with the shell
// executor against this machine's PostgreSQL and Redis.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import pg from 'pg';
import { format, resolveConfig } from 'prettier';
import { parse, stringify } from 'yaml';
import { createTestDatabase, resolveInfrastructure } from '@flotilla/testing';
import { OUTPUTS, TRIGGERS, jobsOf } from '../src/pipeline.ts';
import { bin, cleanEnv, cloneRepository, root, run, type Clone } from './support.ts';

// Predefined variables the tests set on purpose (gitlab-ci-local warns about each otherwise).
const PREDEFINED = [
  'CI_PIPELINE_SOURCE',
  'CI_COMMIT_BRANCH',
  'CI_DEFAULT_BRANCH',
  'CI_COMMIT_TAG',
  'CI_COMMIT_REF_NAME',
  'CI_MERGE_REQUEST_SOURCE_PROJECT_ID',
  'CI_MERGE_REQUEST_DIFF_BASE_SHA',
  'CI_PROJECT_ID',
  'GITLAB_CI',
];
const gcl = (clone: Clone, args: string[], extraEnv: NodeJS.ProcessEnv = {}, timeoutMs = 60_000) =>
  run(bin('gitlab-ci-local'), ['--no-color', ...args], {
    cwd: clone.dir,
    env: cleanEnv({ GCL_IGNORE_PREDEFINED_VARS: PREDEFINED.join(','), ...extraEnv }),
    timeoutMs,
  });
const vars = (values: Record<string, string>) =>
  Object.entries(values).flatMap(([k, v]) => ['--variable', `${k}=${v}`]);

let clone: Clone;
before(async () => {
  clone = await cloneRepository();
  // gitlab-ci-local derives the project's path from origin.
  clone.git('remote', 'set-url', 'origin', 'https://gitlab.example.com/acme/flotilla.git');
});
after(() => clone.remove());

describe('.gitlab-ci.yml', () => {
  it("passes GitLab's schema, and a keyword of the wrong type does not", async () => {
    const ok = await gcl(clone, ['--list-csv']);
    assert.equal(ok.status, 0, ok.output);
    assert.match(ok.output, /json schema validated/);
    const text = await readFile(join(root, OUTPUTS.gitlab), 'utf8');
    await writeFile(
      join(clone.dir, 'broken.yml'),
      text.replace('resource_group: deploy-dev', 'resource_group: [deploy-dev]'),
    );
    const broken = await gcl(clone, ['--file', 'broken.yml', '--list-csv']);
    assert.notEqual(broken.status, 0);
    assert.match(broken.output, /resource_group/);
  });

  /** Jobs GitLab's rules select, as name -> when (on_success, manual). */
  const jobs = async (
    variables: Record<string, string>,
    unset: string[] = [],
  ): Promise<Record<string, string>> => {
    const result = await gcl(clone, [
      '--list-csv',
      ...vars({ CI_DEFAULT_BRANCH: 'main', CI_PROJECT_ID: '1', ...variables }),
      ...unset.flatMap((u) => ['--unset-variable', u]),
    ]);
    assert.equal(result.status, 0, result.output);
    const lines = result.stdout.split('\n');
    const header = lines.findIndex((l) => l.startsWith('name;stage;when'));
    return Object.fromEntries(
      lines
        .slice(header + 1)
        .filter((l) => l.includes(';'))
        .map((l) => l.split(';'))
        .map(([name = '', , when = '']) => [name, when]),
    );
  };
  const ids = (trigger: Parameters<typeof jobsOf>[0], without: string[] = []) =>
    jobsOf(trigger)
      .map((j) => j.id)
      .filter((id) => !without.includes(id))
      .sort();

  it('runs the description’s pull-request jobs for a merge request, Sonar only when configured and not from a fork', async () => {
    const mr = { CI_PIPELINE_SOURCE: 'merge_request_event', CI_COMMIT_BRANCH: 'feature' };
    const own = { ...mr, CI_MERGE_REQUEST_SOURCE_PROJECT_ID: '1' };
    assert.deepEqual(Object.keys(await jobs(own)).sort(), ids(TRIGGERS.pullRequest, ['sonar']));
    const withSonar = { ...own, SONAR_HOST_URL: 'https://sonar.example.com' };
    assert.deepEqual(Object.keys(await jobs(withSonar)).sort(), ids(TRIGGERS.pullRequest));
    const fork = { ...withSonar, CI_MERGE_REQUEST_SOURCE_PROJECT_ID: '2' };
    assert.deepEqual(Object.keys(await jobs(fork)).sort(), ids(TRIGGERS.pullRequest, ['sonar']));
  });

  it('runs the main jobs for a push to main', async () => {
    const main = {
      CI_PIPELINE_SOURCE: 'push',
      CI_COMMIT_BRANCH: 'main',
      CI_COMMIT_REF_NAME: 'main',
      SONAR_HOST_URL: 'https://sonar.example.com',
    };
    assert.deepEqual(Object.keys(await jobs(main)).sort(), ids(TRIGGERS.main));
  });

  it('releases a v tag to staging, then to production by hand', async () => {
    const tag = {
      CI_PIPELINE_SOURCE: 'push',
      CI_COMMIT_TAG: 'v1.2.0',
      CI_COMMIT_REF_NAME: 'v1.2.0',
    };
    const selected = await jobs(tag, ['CI_COMMIT_BRANCH']);
    assert.deepEqual(Object.keys(selected).sort(), ids(TRIGGERS.release));
    assert.equal(selected['deploy-staging'], 'on_success');
    assert.equal(selected['deploy-production'], 'manual');
  });

  it('runs no pipeline for a push to a branch without a merge request', async () => {
    const branch = { CI_PIPELINE_SOURCE: 'push', CI_COMMIT_BRANCH: 'feature' };
    assert.deepEqual(await jobs(branch), {});
  });
});

describe('the merge request pipeline, run with the shell executor', () => {
  // Two `npm ci` and the jobs: about 2 minutes on 2 cores, more than the default test timeout.
  const timeout = 8 * 60_000;
  it(
    'runs its test stage on a one-project change against this machine’s PostgreSQL and Redis',
    { timeout },
    async (t) => {
      const infra = await resolveInfrastructure();
      const db = await createTestDatabase(infra.databaseUrl, 'ci_probe');
      const marker = randomBytes(6).toString('hex');
      const redis = new Redis(infra.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
      t.after(async () => {
        redis.disconnect();
        await db.drop();
        await infra.stop();
      });

      // The change under review: a new library with a unit test and a component test that
      // records the marker in PostgreSQL and Redis, so this test sees the job ran them.
      const base = clone.git('rev-parse', 'HEAD');
      clone.git('checkout', '-q', '-b', 'probe');
      for (const [path, text] of Object.entries(PROBE)) {
        await mkdir(dirname(join(clone.dir, path)), { recursive: true });
        const file = join(clone.dir, path);
        const options = (await resolveConfig(file)) ?? {};
        await writeFile(file, await format(text, { ...options, filepath: file }));
      }
      clone.git('add', '.');
      clone.git('commit', '-q', '-m', 'Add the ci-probe library');

      // The jobs exactly as committed, less `services:`: no container runs here, and the machine's
      // servers stand in for them through DATABASE_URL and REDIS_URL.
      const pipeline = parse(await readFile(join(root, OUTPUTS.gitlab), 'utf8')) as Record<
        string,
        Record<string, unknown>
      >;
      for (const job of Object.values(pipeline)) delete job['services'];
      await mkdir(join(clone.dir, '.gitlab-ci-local'), { recursive: true });
      await writeFile(join(clone.dir, '.gitlab-ci-local/pipeline.yml'), stringify(pipeline));

      const started = Date.now();
      const result = await gcl(
        clone,
        [
          '--file',
          '.gitlab-ci-local/pipeline.yml',
          '--force-shell-executor',
          '--concurrency',
          '1',
          '--stage',
          'test',
          ...vars({
            CI_PIPELINE_SOURCE: 'merge_request_event',
            CI_MERGE_REQUEST_DIFF_BASE_SHA: base,
            CI_COMMIT_BRANCH: 'probe',
            CI_DEFAULT_BRANCH: 'main',
            GITLAB_CI: 'true',
            DATABASE_URL: db.url,
            REDIS_URL: infra.redisUrl,
            PROBE_MARKER: marker,
            // The machine's npm cache, as a runner restores the job's cache.
            npm_config_cache: join(homedir(), '.npm'),
          }),
        ],
        {},
        timeout - 30_000,
      );
      t.diagnostic(`merge request test stage: ${Math.round((Date.now() - started) / 1000)} s`);
      assert.equal(result.status, 0, result.output.slice(-4000));
      assert.match(result.output, /PASS\s+verify/);
      assert.match(result.output, /PASS\s+test/);
      // nx affected found exactly the changed project, and ran its checks and tests.
      assert.match(result.output, /Successfully ran targets lint, typecheck for project ci-probe/);
      assert.match(
        result.output,
        /Successfully ran targets test, integration(, e2e)? for project ci-probe/,
      );

      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        const { rows } = await client.query<{ marker: string }>('SELECT marker FROM ci_probe');
        assert.deepEqual(
          rows.map((r) => r.marker),
          [marker],
        );
      } finally {
        await client.end();
      }
      await redis.connect();
      assert.equal(await redis.get(`ci-probe:${marker}`), 'seen');
      await redis.del(`ci-probe:${marker}`);
    },
  );
});

/** A small library as a team would add one (no package.json: nothing for npm ci to change). */
const PROBE: Record<string, string> = {
  'libs/ci-probe/project.json': JSON.stringify({
    name: 'ci-probe',
    sourceRoot: 'libs/ci-probe/src',
    projectType: 'library',
    tags: ['type:lib', 'scope:shared'],
    targets: { lint: {}, typecheck: {}, test: {}, integration: {} },
  }),
  'libs/ci-probe/tsconfig.json': JSON.stringify({
    extends: '../../tsconfig.base.json',
    include: ['src/**/*.ts', 'test/**/*.ts'],
  }),
  'libs/ci-probe/src/index.ts': `
/** The key under which a marker is recorded. */
export const markerKey = (marker: string): string => \`ci-probe:\${marker}\`;
`,
  'libs/ci-probe/src/index.test.ts': `
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { markerKey } from './index.ts';

it('names the key of a marker', () => {
  assert.equal(markerKey('abc'), 'ci-probe:abc');
});
`,
  'libs/ci-probe/test/services.test.ts': `
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Redis } from 'ioredis';
import pg from 'pg';
import { markerKey } from '../src/index.ts';

const marker = process.env['PROBE_MARKER'] ?? '';

it('records the marker in PostgreSQL and Redis', async () => {
  assert.match(marker, /^[0-9a-f]{12}$/);
  const client = new pg.Client({ connectionString: process.env['DATABASE_URL'] });
  await client.connect();
  try {
    await client.query('CREATE TABLE IF NOT EXISTS ci_probe (marker text NOT NULL)');
    await client.query('INSERT INTO ci_probe (marker) VALUES ($1)', [marker]);
  } finally {
    await client.end();
  }
  const redis = new Redis(process.env['REDIS_URL'] ?? '');
  try {
    assert.equal(await redis.set(markerKey(marker), 'seen'), 'OK');
  } finally {
    redis.disconnect();
  }
});
`,
};
