// The workspace and builder stages of docker/Dockerfile, replayed outside Docker: the files a
// clean checkout puts in the build context, filtered by .dockerignore and by the stage's COPY
// lines, are installed with `npm ci` and built with Nx in an empty directory. A file the build
// needs but the context leaves out fails here instead of in `docker build`.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { contextSources, dockerignore } from '../src/build-context.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const APPS = ['user-service', 'payment-service', 'order-service', 'gateway'];
const run = promisify(execFile);
let dir = '';
let copied: string[] = [];

before(async () => {
  const ignored = dockerignore(await readFile(join(ROOT, '.dockerignore'), 'utf8'));
  const sources = contextSources(
    await readFile(join(ROOT, 'docker/Dockerfile'), 'utf8'),
    'workspace',
  );
  const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' })
    .split('\0')
    .filter(Boolean);
  copied = tracked.filter(
    (file) => !ignored(file) && sources.some((s) => file === s || file.startsWith(`${s}/`)),
  );
  dir = await mkdtemp(join(tmpdir(), 'flotilla-build-stage-'));
  for (const file of copied) {
    await mkdir(join(dir, dirname(file)), { recursive: true });
    await cp(join(ROOT, file), join(dir, file));
  }
  // A clean environment: the Nx run around this test must not leak into the one inside.
  const env = {
    PATH: process.env['PATH'] ?? '',
    HOME: process.env['HOME'] ?? '',
    NX_DAEMON: 'false',
    NX_NO_CLOUD: 'true',
    NX_SKIP_NX_CACHE: 'true',
  };
  await run('npm', ['ci', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund'], {
    cwd: dir,
    env,
  });
  await run('npx', ['nx', 'run-many', '-t', 'build', '-p', ...APPS, '--output-style=static'], {
    cwd: dir,
    env,
    maxBuffer: 16 * 2 ** 20,
  });
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the builder stage, from exactly the build context', () => {
  it('takes a small context: sources and manifests, no tests, docs or build output', () => {
    process.stdout.write(`build context for the workspace stage: ${copied.length} files\n`);
    assert.ok(
      copied.every((f) => !/(^|\/)(test|dist|node_modules)\//.test(f) && !f.endsWith('.test.ts')),
    );
    assert.ok(copied.includes('e2e/package.json') && copied.includes('package-lock.json'));
  });

  for (const app of APPS) {
    it(`builds ${app} into the same bundle manifest and pruned lockfile as the workspace build`, async () => {
      const out = join(dir, 'dist/apps', app);
      for (const file of ['main.js', 'instrumentation.js', 'package.json', 'package-lock.json']) {
        await stat(join(out, file));
      }
      assert.equal(
        await readFile(join(out, 'package.json'), 'utf8'),
        await readFile(join(ROOT, 'dist/apps', app, 'package.json'), 'utf8'),
      );
      assert.equal(
        await readFile(join(out, 'package-lock.json'), 'utf8'),
        await readFile(join(ROOT, 'dist/apps', app, 'package-lock.json'), 'utf8'),
      );
    });
  }
});
