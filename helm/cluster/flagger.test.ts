// Flagger's own controller (built from its Go module, run on the host by kube.sh up --flagger)
// takes over a service chart installed with strategy.type=flagger, on the simulated node: it makes
// the primary Deployment and the Services from the Canary; then, for a new version whose analysis
// cannot pass (no Prometheus answers here), it halts at each check and rolls the canary back after
// `threshold` failures, the primary keeping the old version. Needs KUBECONFIG and `kube.sh up
// --flagger` (tools/infra/src/with-kube.ts --flagger).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { kubeState } from '@flotilla/infra/kube';
import { getJson, helmRun, kubectl, ok, until } from './kubectl.ts';

const NAMESPACE = 'flotilla-flagger';
const OLD = '1111111aaaaa';
const NEW = '2222222bbbbb';

interface Canary {
  status?: { phase?: string; failedChecks?: number };
}
interface Deployment {
  spec: {
    replicas: number;
    selector: { matchLabels: Record<string, string> };
    template: { spec: { containers: { image: string }[] } };
  };
  status: { availableReplicas?: number };
}
const canary = () => getJson<Canary>(['-n', NAMESPACE, 'get', 'canary', 'user-service']);
const deployment = (name: string) =>
  getJson<Deployment>(['-n', NAMESPACE, 'get', 'deployment', name]);
const install = (tag: string) =>
  helmRun(
    [
      'upgrade',
      '--install',
      'user-service',
      'helm/user-service',
      '-n',
      NAMESPACE,
      '--set',
      `global.imageTag=${tag}`,
      '--set',
      'strategy.type=flagger',
      '--set',
      'strategy.flagger.interval=5s',
      '--set',
      'strategy.flagger.threshold=2',
      '--set',
      'analysis.window=30s',
      '--set',
      'autoscaling.enabled=false',
      '--set',
      'replicaCount=1',
      '--set',
      'migration.enabled=false',
    ],
    { timeoutMs: 120_000 },
  );

before(async () => {
  assert.ok(
    kubeState().flagger,
    "Flagger's controller is down: run with tools/infra/src/with-kube.ts --flagger",
  );
  const node = await getJson<{ spec: { unschedulable?: boolean } }>(['get', 'node', 'kwok-node-0']);
  assert.ok(!node.spec.unschedulable, 'kwok-node-0 is cordoned (the real node is up)');
  await kubectl([
    'delete',
    'namespace',
    NAMESPACE,
    '--ignore-not-found',
    '--wait=true',
    '--timeout=90s',
  ]);
  ok('kubectl create namespace', await kubectl(['create', 'namespace', NAMESPACE]));
  ok(
    'kubectl create secret',
    await kubectl([
      '-n',
      NAMESPACE,
      'create',
      'secret',
      'generic',
      'user-service-secrets',
      '--from-literal=DATABASE_URL=postgres://x@db.invalid/x',
    ]),
  );
});
after(async () => {
  await helmRun(['uninstall', 'user-service', '-n', NAMESPACE, '--wait', '--timeout', '60s']);
  await kubectl([
    'delete',
    'namespace',
    NAMESPACE,
    '--ignore-not-found',
    '--wait=true',
    '--timeout=90s',
  ]);
});

describe("Flagger's controller and the chart's Canary", () => {
  it('initializes: the primary Deployment, the Services, the target scaled to zero', async () => {
    const started = Date.now();
    ok('helm install', await install(OLD));
    await until(
      'the Canary Initialized',
      async () => ((await canary()).status?.phase === 'Initialized' ? true : undefined),
      { timeoutMs: 120_000 },
    );
    process.stdout.write(
      `  Canary initialized in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
    );
    const primary = await deployment('user-service-primary');
    assert.equal(primary.spec.selector.matchLabels['app'], 'user-service-primary');
    assert.match(primary.spec.template.spec.containers[0]!.image, new RegExp(`:${OLD}$`));
    assert.equal(primary.status.availableReplicas, 1);
    assert.equal((await deployment('user-service')).spec.replicas, 0);
    const selector = ok(
      'kubectl get svc',
      await kubectl([
        '-n',
        NAMESPACE,
        'get',
        'svc',
        'user-service',
        '-o',
        'jsonpath={.spec.selector.app}',
      ]),
    );
    assert.equal(selector, 'user-service-primary');
    for (const service of ['user-service-primary', 'user-service-canary'])
      ok(`Service ${service}`, await kubectl(['-n', NAMESPACE, 'get', 'svc', service]));
  });

  it('rolls a new version back after threshold failed checks; the primary keeps the old one', async () => {
    const started = Date.now();
    ok('helm upgrade', await install(NEW));
    await until(
      'the Canary Progressing',
      async () => ((await canary()).status?.phase === 'Progressing' ? true : undefined),
      { timeoutMs: 120_000 },
    );
    const failed = await until(
      'the Canary Failed',
      async () => {
        const c = await canary();
        return c.status?.phase === 'Failed' ? c : undefined;
      },
      { timeoutMs: 180_000, intervalMs: 1000 },
    );
    process.stdout.write(
      `  new version rolled back by Flagger in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
    );
    assert.ok((failed.status?.failedChecks ?? 0) >= 2 || failed.status?.phase === 'Failed');
    const primary = await deployment('user-service-primary');
    assert.match(primary.spec.template.spec.containers[0]!.image, new RegExp(`:${OLD}$`));
    assert.equal((await deployment('user-service')).spec.replicas, 0);
    const events = ok(
      'kubectl get events',
      await kubectl([
        '-n',
        NAMESPACE,
        'get',
        'events',
        '--field-selector',
        'involvedObject.kind=Canary',
        '-o',
        'jsonpath={.items[*].message}',
      ]),
    );
    assert.match(events, /Rolling back user-service/);
  });
});
