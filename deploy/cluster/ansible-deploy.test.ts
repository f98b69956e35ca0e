// deploy/ansible/playbooks/deploy.yml run for real (kubernetes.core.helm: atomic, wait; then
// kubernetes.core.k8s_info until every Service has endpoints) against the cluster KUBECONFIG
// names, its inventory pointed at that cluster's context and a namespace of its own: it leaves a
// deployed release of the umbrella chart. The pods run on the simulated node (kwok). Needs
// KUBECONFIG (tools/infra/src/with-kube.ts), ansible with the kubernetes.core collection and the
// Python kubernetes client (Debian: ansible, python3-kubernetes).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ANSIBLE = fileURLToPath(new URL('../ansible/', import.meta.url));
const NAMESPACE = 'flotilla-ansible';
const SERVICES = ['user-service', 'payment-service', 'order-service', 'gateway'];

function run(
  command: string,
  args: string[],
  timeoutMs = 120_000,
): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      {
        cwd: ANSIBLE,
        timeout: timeoutMs,
        maxBuffer: 32 * 2 ** 20,
        env: { ...process.env, ANSIBLE_NOCOLOR: '1', NO_COLOR: '1', ANSIBLE_LOCAL_TEMP: tmpdir() },
      },
      (err, stdout, stderr) =>
        resolve({
          code: err ? (typeof err.code === 'number' ? err.code : 1) : 0,
          output: stdout + stderr,
        }),
    );
  });
}
const kubectl = (...args: string[]) => run('kubectl', args);

async function currentContext(): Promise<string> {
  const result = await kubectl('config', 'current-context');
  assert.equal(result.code, 0, result.output);
  return result.output.trim();
}

async function cleanUp(): Promise<void> {
  await run('helm', ['uninstall', 'flotilla', '-n', NAMESPACE, '--wait', '--timeout', '60s']);
  await kubectl(
    'delete',
    'namespace',
    NAMESPACE,
    '--ignore-not-found',
    '--wait=true',
    '--timeout=90s',
  );
}

before(async () => {
  await cleanUp();
  // The Secrets the services read must exist before the release (see the README).
  assert.equal((await kubectl('create', 'namespace', NAMESPACE)).code, 0);
  for (const service of SERVICES) {
    const result = await kubectl(
      '-n',
      NAMESPACE,
      'create',
      'secret',
      'generic',
      `${service}-secrets`,
      '--from-literal=DATABASE_URL=postgres://flotilla@postgres.invalid:5432/flotilla',
      '--from-literal=REDIS_URL=redis://redis.invalid:6379',
    );
    assert.equal(result.code, 0, result.output);
  }
});
after(cleanUp);

/** playbooks/deploy.yml for flotilla-dev, pointed at this cluster's context and namespace. */
async function deployPlaybook(extra: string[] = []) {
  const context = await currentContext();
  return run(
    'ansible-playbook',
    [
      'playbooks/deploy.yml',
      '--limit',
      'flotilla-dev',
      '-e',
      `flotilla_kube_context=${context}`,
      '-e',
      `flotilla_namespace=${NAMESPACE}`,
      ...extra,
    ],
    400_000,
  );
}

describe('the Ansible deploy playbook against a real cluster', () => {
  it('installs the umbrella chart with Helm (atomic, wait) and waits for every Service', async () => {
    const started = Date.now();
    const { code, output } = await deployPlaybook(['-e', 'flotilla_rollout_timeout=180']);
    assert.equal(code, 0, output);
    assert.match(output, /Install or upgrade the umbrella chart/);
    assert.match(output, /flotilla-dev\s*: ok=\d+\s+changed=1\s+unreachable=0\s+failed=0/);
    process.stdout.write(`  playbook run in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  });

  it('leaves a deployed release with every Deployment available', async () => {
    const status = await run('helm', ['status', 'flotilla', '-n', NAMESPACE, '-o', 'json']);
    assert.equal(status.code, 0, status.output);
    const release = JSON.parse(status.output) as { version: number; info: { status: string } };
    assert.equal(release.info.status, 'deployed');
    assert.equal(release.version, 1);
    const deployments = await kubectl(
      '-n',
      NAMESPACE,
      'get',
      'deployments',
      '-o',
      'jsonpath={range .items[*]}{.metadata.name}={.status.availableReplicas}{"\\n"}{end}',
    );
    assert.deepEqual(
      deployments.output.trim().split('\n').sort(),
      SERVICES.map((s) => `${s}=1`).sort(),
    );
  });

  it('changes nothing on a second run (the release is as declared)', async () => {
    const { code, output } = await deployPlaybook();
    assert.equal(code, 0, output);
    assert.match(output, /flotilla-dev\s*: ok=\d+\s+changed=0\s+unreachable=0\s+failed=0/);
  });
});
