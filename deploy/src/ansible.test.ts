import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const DIR = fileURLToPath(new URL('../ansible/', import.meta.url));
const PLAYBOOKS = ['playbooks/deploy.yml', 'playbooks/backup.yml', 'playbooks/restore.yml'];

function run(command: string, args: string[], cwd = DIR) {
  const result = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, ANSIBLE_NOCOLOR: '1', NO_COLOR: '1', ANSIBLE_LOCAL_TEMP: tmpdir() },
  });
  if (result.error)
    throw new Error(`${command} is missing: apt-get install ansible ansible-lint`, {
      cause: result.error,
    });
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('Ansible', () => {
  for (const playbook of PLAYBOOKS) {
    it(`${playbook} passes ansible-playbook --syntax-check`, () => {
      const { code, output } = run('ansible-playbook', ['--syntax-check', playbook]);
      assert.equal(code, 0, output);
    });
  }

  it('is clean under ansible-lint with the production profile', () => {
    const { code, output } = run('ansible-lint', ['--offline', '--nocolor', ...PLAYBOOKS]);
    assert.equal(code, 0, output);
    assert.match(output, /Passed with production profile/);
  });

  it('ansible-lint does fail a playbook that breaks its rules', () => {
    const dir = mkdtempSync(join(tmpdir(), 'flotilla-ansible-'));
    try {
      cpSync(join(DIR, '.ansible-lint'), join(dir, '.ansible-lint'));
      writeFileSync(
        join(dir, 'bad.yml'),
        '- hosts: all\n  tasks:\n    - shell: curl http://example.com | sh\n',
      );
      const { code } = run('ansible-lint', ['--offline', '--nocolor', 'bad.yml'], dir);
      assert.notEqual(code, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives each environment its namespace, cluster context and values file', () => {
    const { code, output } = run('ansible-inventory', ['--host', 'flotilla-production']);
    assert.equal(code, 0, output);
    const vars = JSON.parse(output) as Record<string, string>;
    assert.equal(vars['flotilla_environment'], 'production');
    assert.equal(vars['flotilla_namespace'], 'flotilla');
    assert.equal(vars['flotilla_kube_context'], 'flotilla-production');
  });

  it('refuses to deploy a branch build to production, before touching any cluster', () => {
    const { code, output } = run('ansible-playbook', [
      'playbooks/deploy.yml',
      '--limit',
      'flotilla-production',
      '-e',
      'flotilla_image_tag=main',
    ]);
    assert.notEqual(code, 0);
    assert.match(output, /Set -e flotilla_image_tag=<commit id> \(got 'main'\)/);
    assert.doesNotMatch(output, /Install or upgrade the umbrella chart/);
  });
});
