import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { dockerfileViolations } from './dockerfile-policy.ts';

const ROOT = new URL('../../', import.meta.url);
const dockerfile = readFileSync(new URL('docker/Dockerfile', ROOT), 'utf8');

describe('docker/Dockerfile', () => {
  it('passes the validator and every image rule', () => {
    assert.deepEqual(dockerfileViolations(dockerfile), []);
  });

  it('runs on a Node 24 base pinned to an exact version', () => {
    assert.match(dockerfile, /^ARG NODE_IMAGE=node:24\.\d+\.\d+-alpine/m);
  });

  it('installs dependencies from the manifests and lockfile before it copies the sources', () => {
    const workspace = dockerfile.slice(
      dockerfile.indexOf('AS workspace\n'),
      dockerfile.indexOf('AS builder\n'),
    );
    const steps = workspace
      .replace(/\\\n\s*/g, '')
      .split('\n')
      .filter((line) => /^(COPY|RUN) /.test(line));
    const install = steps.findIndex((line) => line.startsWith('RUN') && line.includes('npm ci'));
    assert.ok(install > 0, 'npm ci in the workspace stage');
    for (const copy of steps.slice(0, install)) {
      assert.match(
        copy,
        /^COPY (package\.json package-lock\.json|e2e\/package\.json|--from=manifests) /,
      );
    }
    assert.ok(steps.slice(install).some((line) => line === 'COPY apps apps'));
    const manifests = dockerfile.slice(
      dockerfile.indexOf('AS manifests\n'),
      dockerfile.indexOf('AS workspace\n'),
    );
    assert.match(manifests, /find apps libs tools -type f ! -name package\.json -delete/);
  });

  it('builds with Nx and installs the pruned lockfile without dev dependencies', () => {
    assert.match(dockerfile, /npx nx build "\$\{APP\}"/);
    assert.match(dockerfile, /npm ci --omit=dev/);
  });

  it('ships only the built app into the runtime stage, owned by root', () => {
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    const copies = runtime.split('\n').filter((line) => line.startsWith('COPY'));
    assert.deepEqual(copies, ['COPY --from=builder --chown=0:0 /workspace/dist/apps/${APP} ./']);
  });
});

describe('the Dockerfile rules', () => {
  const rulesBroken = (content: string) =>
    [...new Set(dockerfileViolations(content).map((v) => v.rule))].sort();

  it('reports each rule a bad Dockerfile breaks', () => {
    const bad = [
      'FROM node:latest',
      'ARG NPM_TOKEN',
      'ENV DB_PASSWORD=hunter2',
      'ADD https://example.com/app.tgz /app',
      'HEALTHCHECK NONE',
      'CMD node main.js',
    ].join('\n');
    assert.deepEqual(rulesBroken(bad), [
      'exec-form',
      'healthcheck',
      'multi-stage',
      'no-add',
      'no-secrets',
      'non-root',
      'oci-labels',
      'pinned-base',
    ]);
  });

  it('takes a major-only tag or a root user as a violation, a digest as pinned', () => {
    const base = (from: string, user: string) =>
      [
        `FROM ${from} AS build`,
        'RUN echo build',
        `FROM ${from}`,
        'LABEL org.opencontainers.image.revision=1 org.opencontainers.image.version=1 org.opencontainers.image.source=x',
        `USER ${user}`,
        'HEALTHCHECK CMD ["node", "-e", "1"]',
        'ENTRYPOINT ["node"]',
      ].join('\n');
    assert.deepEqual(rulesBroken(base('node:24-alpine', '10001')), ['pinned-base']);
    assert.deepEqual(rulesBroken(base('node:24.22.3-alpine', 'root')), ['non-root']);
    assert.deepEqual(rulesBroken(base('node:24.22.3-alpine', '0:0')), ['non-root']);
    assert.deepEqual(rulesBroken(base(`node@sha256:${'a'.repeat(64)}`, '10001:10001')), []);
  });

  it('passes on the validator findings, such as an instruction without arguments', () => {
    assert.ok(dockerfileViolations('FROM node:24.22.3\nUSER\n').some((v) => v.rule === 'valid'));
  });
});

describe('.dockerignore', () => {
  const ignored = readFileSync(new URL('.dockerignore', ROOT), 'utf8').split('\n');

  it('keeps dependencies, build output, VCS data and env files out of the build context', () => {
    for (const entry of ['**/node_modules', 'dist', '.git', '.env', '.env.*', '.nx']) {
      assert.ok(ignored.includes(entry), `${entry} is not ignored`);
    }
  });

  it('keeps the package manifest of every workspace, which npm ci needs', () => {
    assert.ok(ignored.includes('!e2e/package.json'));
    assert.ok(!ignored.some((line) => /^(apps|libs|tools)\/?$/.test(line)));
  });
});
