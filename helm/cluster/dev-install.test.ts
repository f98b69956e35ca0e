// The README's dev install, run as it is written, on the cluster's simulated node (kwok: pods
// become Ready without running): the namespace, the four Secrets, then the umbrella chart with
// dev's values. The migration Jobs (pre-install hooks) complete and every Deployment becomes
// available, on a first install. Needs KUBECONFIG (tools/infra/src/with-kube.ts).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SERVICE_CHARTS } from '../src/helm.ts';
import { getJson, helmRun, kubectl, ok, runReadmeInstall, until } from './kubectl.ts';

const NAMESPACE = 'flotilla-dev';
const DATABASE = (name: string) => `postgres://flotilla@postgres.invalid:5432/${name}`;

interface Deployment {
  metadata: { name: string };
  spec: { replicas: number; template: { spec: { nodeName?: string } } };
  status: { availableReplicas?: number; updatedReplicas?: number };
}

async function deleteNamespace(): Promise<void> {
  await helmRun(['uninstall', 'flotilla', '-n', NAMESPACE, '--wait', '--timeout', '60s']);
  await kubectl([
    'delete',
    'namespace',
    NAMESPACE,
    '--ignore-not-found',
    '--wait=true',
    '--timeout=90s',
  ]);
}

before(async () => {
  const node = await getJson<{ spec: { unschedulable?: boolean } }>(['get', 'node', 'kwok-node-0']);
  assert.ok(
    !node.spec.unschedulable,
    'kwok-node-0 is cordoned (the real node is up): run this suite on a cluster without --real',
  );
  await deleteNamespace();
});
after(deleteNamespace);

describe("the README's dev install on a new namespace", () => {
  let output = '';

  it('runs as written: Secrets, then helm upgrade --install --wait', async () => {
    const started = Date.now();
    const result = await runReadmeInstall({
      namespace: NAMESPACE,
      imageRegistry: 'flotilla',
      imageTag: '3f2a9c1d7b4e',
      usersDatabaseUrl: DATABASE('flotilla_users'),
      paymentsDatabaseUrl: DATABASE('flotilla_payments'),
      ordersDatabaseUrl: DATABASE('flotilla_orders'),
      redisUrl: 'redis://redis.invalid:6379',
      adminToken: 'a'.repeat(40),
      orderServiceClientSecret: 'b'.repeat(40),
    });
    output = result.stdout + result.stderr;
    assert.equal(result.code, 0, output);
    process.stdout.write(
      `  dev install (helm --wait) in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
    );
  });

  it('leaves release revision 1, deployed', async () => {
    const history = JSON.parse(
      ok('helm history', await helmRun(['history', 'flotilla', '-n', NAMESPACE, '-o', 'json'])),
    ) as { revision: number; status: string }[];
    assert.deepEqual(
      history.map((h) => [h.revision, h.status]),
      [[1, 'deployed']],
      output,
    );
  });

  it('makes every Deployment available with the image of the release', async () => {
    const deployments = await until('four available Deployments', async () => {
      const list = await getJson<{ items: Deployment[] }>(['-n', NAMESPACE, 'get', 'deployments']);
      const ready = list.items.filter((d) => d.status.availableReplicas === d.spec.replicas);
      return ready.length === SERVICE_CHARTS.length ? list.items : undefined;
    });
    assert.deepEqual(deployments.map((d) => d.metadata.name).sort(), [...SERVICE_CHARTS].sort());
    const images = ok(
      'kubectl get pods',
      await kubectl([
        '-n',
        NAMESPACE,
        'get',
        'pods',
        '-l',
        'app.kubernetes.io/component=server',
        '-o',
        'jsonpath={range .items[*]}{.spec.containers[0].image}{"\\n"}{end}',
      ]),
    );
    assert.deepEqual(
      images.split('\n').sort(),
      SERVICE_CHARTS.map((s) => `flotilla/${s}:3f2a9c1d7b4e`).sort(),
    );
  });

  it('ran the migration hooks of the three databases before the services (their Jobs are gone once done)', async () => {
    const hooks = ok(
      'helm get hooks',
      await helmRun(['get', 'hooks', 'flotilla', '-n', NAMESPACE]),
    );
    for (const service of ['user-service', 'payment-service', 'order-service'])
      assert.match(hooks, new RegExp(`name: ${service}-migrate`));
    const jobs = await getJson<{ items: unknown[] }>(['-n', NAMESPACE, 'get', 'jobs']);
    assert.equal(jobs.items.length, 0, 'hook-succeeded deletes each Job once it succeeded');
  });
});
