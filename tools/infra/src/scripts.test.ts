// The engine tooling's shell scripts: shellcheck-clean, and docker.sh refuses what it does not know.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const scripts = readdirSync(ROOT, { recursive: true, encoding: 'utf8' })
  .filter((file) => file.endsWith('.sh') && !file.includes('node_modules'))
  .sort();

describe('the shell scripts', () => {
  it('are the engine and cluster scripts and the image entrypoints', () => {
    assert.deepEqual(scripts, [
      'docker.sh',
      'images/postgres/docker-entrypoint.sh',
      'images/redis/docker-entrypoint.sh',
      'kube.sh',
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

describe('kube.sh', () => {
  const kubeSh = (args: string[], env: NodeJS.ProcessEnv = process.env) =>
    spawnSync('bash', [join(ROOT, 'kube.sh'), ...args], { encoding: 'utf8', env });
  const nowhere = { ...process.env, FLOTILLA_KUBE_CACHE: '/nonexistent/flotilla-kube' };

  it('exits 2 with its usage on an unknown command', () => {
    const result = kubeSh(['start']);
    assert.equal(result.status, 2);
    assert.match(
      result.stderr,
      /usage: .*kube\.sh install\|up\|down\|crds\|load\|env\|state\|status\|host/,
    );
  });

  it('refuses an unknown option before doing anything', () => {
    const result = kubeSh(['up', '--istio'], nowhere);
    assert.equal(result.status, 1);
    assert.match(
      result.stderr,
      /unknown option --istio \(up takes --real, --rollouts, --flagger\)/,
    );
  });

  it('stops nothing when nothing was started', () => {
    const result = kubeSh(['down'], nowhere);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /down: nothing was up/);
  });

  it('reports a cluster that is down: state up false, env and status exit 1', () => {
    const state = JSON.parse(kubeSh(['state'], nowhere).stdout) as Record<string, unknown>;
    assert.equal(state['up'], false);
    assert.equal(state['kubeconfig'], '/nonexistent/flotilla-kube/state/kubeconfig');
    assert.equal(state['realNode'], null);
    assert.equal(kubeSh(['env'], nowhere).status, 1);
    assert.equal(kubeSh(['status'], nowhere).status, 1);
  });

  it('loads no image while the real node is down', () => {
    const result = kubeSh(['load', 'flotilla/user-service:1'], nowhere);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /the real node is down: run .* up --real/);
  });
});

describe('with-kube.ts', () => {
  it('exits 2 with its usage without a command or with an unknown option', () => {
    const script = join(ROOT, 'src', 'with-kube.ts');
    for (const args of [[], ['--real'], ['--istio', '--', 'true']]) {
      const result = spawnSync(process.execPath, [script, ...args], { encoding: 'utf8' });
      assert.equal(result.status, 2, args.join(' '));
      assert.match(
        result.stderr,
        /usage: with-kube\.ts \[--real\] \[--rollouts\] \[--flagger\] \[--crds\] -- <command>/,
      );
    }
  });
});

describe('the scripts the READMEs give as commands', () => {
  const WORKSPACE = fileURLToPath(new URL('../../../', import.meta.url));
  const named = [
    ...new Set(
      ['README.md', 'tools/infra/README.md'].flatMap((readme) =>
        [
          ...readFileSync(join(WORKSPACE, readme), 'utf8').matchAll(
            /(?:^|[\s`"(])(tools\/infra\/[a-z-]+\.sh)\b/gm,
          ),
        ].map((match) => match[1]!),
      ),
    ),
  ].sort();

  it('are both engine scripts', () => {
    assert.deepEqual(named, ['tools/infra/docker.sh', 'tools/infra/kube.sh']);
  });

  for (const script of named) {
    it(`${script} has its run bit in git and runs as typed`, () => {
      const mode = spawnSync('git', ['ls-files', '-s', '--', script], {
        cwd: WORKSPACE,
        encoding: 'utf8',
      }).stdout.split(' ')[0];
      assert.equal(mode, '100755', `git update-index --chmod=+x ${script}`);
      // `status` of a cache that does not exist: exit 1 (nothing runs), never 126 (not executable).
      const result = spawnSync(script, ['status'], {
        cwd: WORKSPACE,
        encoding: 'utf8',
        env: {
          ...process.env,
          FLOTILLA_DOCKER_CACHE: '/nonexistent/flotilla-docker',
          FLOTILLA_KUBE_CACHE: '/nonexistent/flotilla-kube',
        },
      });
      assert.ok(!result.error, String(result.error));
      assert.equal(result.status, 1, `${result.stdout}${result.stderr}`);
    });
  }
});
