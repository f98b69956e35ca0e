// The engine tooling's shell scripts: shellcheck-clean, and docker.sh refuses what it does not know.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const scripts = readdirSync(ROOT, { recursive: true, encoding: 'utf8' })
  .filter((file) => file.endsWith('.sh') && !file.includes('node_modules'))
  .sort();

describe('the shell scripts', () => {
  it('are the engine script and the image entrypoints', () => {
    assert.deepEqual(scripts, [
      'docker.sh',
      'images/postgres/docker-entrypoint.sh',
      'images/redis/docker-entrypoint.sh',
    ]);
  });

  for (const script of scripts) {
    it(`${script} passes shellcheck`, () => {
      const result = spawnSync('shellcheck', ['--external-sources', join(ROOT, script)], {
        encoding: 'utf8',
      });
      assert.ok(!result.error, 'shellcheck is needed: apt-get install shellcheck');
      assert.equal(result.status, 0, result.stdout);
    });
  }

  it('shellcheck does catch a broken script', () => {
    const result = spawnSync('shellcheck', ['-'], { input: '#!/bin/sh\nrm -rf $1/*\n' });
    assert.notEqual(result.status, 0);
  });
});

describe('docker.sh', () => {
  it('exits 2 with its usage on an unknown command', () => {
    const result = spawnSync('bash', [join(ROOT, 'docker.sh'), 'start'], { encoding: 'utf8' });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /usage: .*docker\.sh install\|up\|base\|status\|down/);
  });

  it('stops nothing it did not start', () => {
    const result = spawnSync('bash', [join(ROOT, 'docker.sh'), 'down'], {
      encoding: 'utf8',
      env: { ...process.env, FLOTILLA_DOCKER_CACHE: '/nonexistent/flotilla-docker' },
    });
    assert.equal(result.status, 0);
    assert.match(result.stderr, /was not started by .* up: nothing to stop/);
  });
});
