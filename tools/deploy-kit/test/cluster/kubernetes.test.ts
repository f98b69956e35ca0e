// The deploy kit's kubernetes platform against a real API server with Argo Rollouts' controller
// (tools/infra/kube.sh; the node is simulated by kwok, so pods become Ready without running): Helm
// releases per service, a Deployment's rolling update, blue-green and canary as Argo Rollouts, with
// AnalysisRuns querying a real Prometheus, the promotion and approval gates, the Lease lock, the
// ConfigMap ledger, a failed analysis rolled back, and rollback. Needs KUBECONFIG (with-kube.ts).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import {
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  V1MicroTime,
} from '@kubernetes/client-node';
import { stringify } from 'yaml';
import type { ReleaseRecord } from '../../src/core/ledger.ts';
import { startPodMetrics } from './prometheus.ts';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const CLI = join(ROOT, 'tools/deploy-kit/src/cli.ts');
const SERVICE = 'order-service';
const CONTEXT = process.env['FLOTILLA_KUBE_CONTEXT'] ?? 'flotilla-kube';
const NS = {
  dev: 'flotilla-kit-dev',
  staging: 'flotilla-kit-staging',
  production: 'flotilla-kit-production',
};
const V1 = '1111111111aa';
const V2 = '2222222222bb';
const V3 = '3333333333cc';

const kc = new KubeConfig();
kc.loadFromDefault();
kc.setCurrentContext(CONTEXT);
const core = kc.makeApiClient(CoreV1Api);
const apps = kc.makeApiClient(AppsV1Api);
const custom = kc.makeApiClient(CustomObjectsApi);
const coordination = kc.makeApiClient(CoordinationV1Api);

let dir = '';
let metrics: Awaited<ReturnType<typeof startPodMetrics>>;

/** The environments of this suite: dev rolling, staging blue-green after dev, production canary after staging with an approval. */
function environment(name: keyof typeof NS, strategy: 'rolling' | 'blueGreen' | 'canary') {
  return {
    platform: 'kubernetes',
    kubernetes: { context: CONTEXT, namespace: NS[name], valuesFile: `values-${name}.yaml` },
    strategy: {
      type: strategy,
      canary: {
        steps: [
          { weight: 20, pause: '5s' },
          { weight: 50, pause: '5s' },
        ],
      },
      blueGreen: { preview: '5s' },
    },
    analysis: {
      source: 'prometheus',
      prometheusUrl: metrics.url,
      window: '10s',
      minRequests: 5,
      inconclusiveLimit: 3,
      failureLimit: 0,
    },
    approval: name === 'production' ? 'required' : 'none',
    promoteFrom: name === 'dev' ? null : name === 'staging' ? 'dev' : 'staging',
    readyTimeout: '120s',
  };
}

/** Helm values of an environment, umbrella-shaped as deploy/environments/values-<env>.yaml. */
function values(strategy: 'rolling' | 'blueGreen' | 'canary') {
  return {
    global: { environment: 'production', imageRegistry: 'flotilla', prometheusUrl: metrics.url },
    [SERVICE]: {
      replicaCount: 2,
      autoscaling: { enabled: false },
      secrets: { existingSecret: SERVICE },
      strategy: {
        type: strategy,
        blueGreen: { autoPromotionEnabled: false, scaleDownDelaySeconds: 5 },
        canary: {
          steps: [
            { setWeight: 20 },
            { pause: { duration: '5s' } },
            { setWeight: 50 },
            { pause: { duration: '5s' } },
          ],
        },
      },
      analysis: {
        initialDelay: '2s',
        interval: '2s',
        count: 3,
        window: '10s',
        minRequests: 5,
        inconclusiveLimit: 3,
        failureLimit: 0,
        minSuccessRate: 0.99,
        maxP99Seconds: 0.5,
      },
    },
  };
}

async function kit(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string }> {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    env: { ...process.env, FLOTILLA_ENVIRONMENTS: dir, IMAGE_REGISTRY: 'flotilla', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code: code ?? 128, out };
}

/** While a release runs: as the new pods appear, their metrics say `failRatio` of 5xx. */
function serveNewPods(namespace: string, failRatio: number): { stop: () => void } {
  let running = true;
  void (async () => {
    while (running) {
      const rollout = (await custom
        .getNamespacedCustomObject({
          group: 'argoproj.io',
          version: 'v1alpha1',
          namespace,
          plural: 'rollouts',
          name: SERVICE,
        })
        .catch(() => undefined)) as
        { status?: { currentPodHash?: string; stableRS?: string } } | undefined;
      const { currentPodHash, stableRS } = rollout?.status ?? {};
      if (stableRS) metrics.serve(stableRS, 0);
      if (currentPodHash && currentPodHash !== stableRS) metrics.serve(currentPodHash, failRatio);
      await sleep(300);
    }
  })();
  return { stop: () => (running = false) };
}

async function ledger(namespace: string): Promise<ReleaseRecord[]> {
  const map = await core.readNamespacedConfigMap({
    name: `flotilla-releases-${SERVICE}`,
    namespace,
  });
  return Object.values(map.data ?? {})
    .map((t) => JSON.parse(t) as ReleaseRecord)
    .sort((a, b) => a.revision - b.revision);
}

const image = async (namespace: string, kind: 'Deployment' | 'Rollout') => {
  const workload =
    kind === 'Deployment'
      ? await apps.readNamespacedDeployment({ name: SERVICE, namespace })
      : ((await custom.getNamespacedCustomObject({
          group: 'argoproj.io',
          version: 'v1alpha1',
          namespace,
          plural: 'rollouts',
          name: SERVICE,
        })) as {
          spec: { template: { spec: { containers: { image: string }[] } } };
        });
  return workload.spec?.template?.spec?.containers[0]?.image;
};

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flotilla-kit-cluster-'));
  metrics = await startPodMetrics(SERVICE);
  const strategies = { dev: 'rolling', staging: 'blueGreen', production: 'canary' } as const;
  for (const [name, strategy] of Object.entries(strategies) as [
    keyof typeof NS,
    (typeof strategies)[keyof typeof NS],
  ][]) {
    await writeFile(join(dir, `${name}.yaml`), stringify(environment(name, strategy)));
    await writeFile(join(dir, `values-${name}.yaml`), stringify(values(strategy)));
    await core.deleteNamespace({ name: NS[name] }).catch(() => undefined);
    while (
      await core.readNamespace({ name: NS[name] }).then(
        () => true,
        () => false,
      )
    )
      await sleep(500);
    await core.createNamespace({ body: { metadata: { name: NS[name] } } });
    if (name === 'dev') {
      // dev's namespace with a release whose migration Job can never be scheduled: its
      // pre-upgrade hook does not complete within the environment's 20 s.
      const stuck: Record<string, object> = values(strategy);
      stuck[SERVICE] = {
        ...stuck[SERVICE],
        resources: {
          requests: { cpu: '1000', memory: '64Mi' },
          limits: { cpu: '1000', memory: '64Mi' },
        },
      };
      await writeFile(
        join(dir, 'stuck.yaml'),
        stringify({
          ...environment(name, strategy),
          kubernetes: { context: CONTEXT, namespace: NS.dev, valuesFile: 'values-stuck.yaml' },
          readyTimeout: '20s',
        }),
      );
      await writeFile(join(dir, 'values-stuck.yaml'), stringify(stuck));
    }
    await core.createNamespacedSecret({
      namespace: NS[name],
      body: {
        metadata: { name: SERVICE },
        stringData: {
          DATABASE_URL: 'postgres://flotilla@postgres.invalid:5432/flotilla_orders',
          SERVICE_CLIENT_SECRET: 'b'.repeat(40),
          ADMIN_TOKEN: 'a'.repeat(40),
        },
      },
    });
  }
});

after(async () => {
  for (const namespace of Object.values(NS))
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
  await metrics?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function helmHistoryOf(
  namespace: string,
): Promise<{ revision: number; description: string }[]> {
  const child = spawn(
    'helm',
    ['history', SERVICE, '-n', namespace, '--kube-context', CONTEXT, '-o', 'json'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  await once(child, 'exit');
  return JSON.parse(out) as { revision: number; description: string }[];
}

const show = (r: { code: number; out: string }) => `exit ${r.code}\n${r.out.slice(-5000)}`;

describe('the kubernetes platform', { concurrency: false }, () => {
  it('installs a service in dev and rolls a new version out: Helm revision 2, the old ReplicaSet gone, the ledger in a ConfigMap', async () => {
    const first = await kit(['deploy', SERVICE, '--env=dev', `--version=${V1}`]);
    assert.equal(first.code, 0, show(first));
    const second = await kit(['deploy', SERVICE, '--env=dev', `--version=${V2}`]);
    assert.equal(second.code, 0, show(second));
    assert.equal(await image(NS.dev, 'Deployment'), `flotilla/${SERVICE}:${V2}`);
    const history = await ledger(NS.dev);
    assert.deepEqual(
      history.map((r) => [r.version, r.result]),
      [
        [V1, 'released'],
        [V2, 'released'],
      ],
    );
    assert.equal((history.at(-1)?.handle as { helmRevision?: number }).helmRevision, 2);
    const sets = await apps.listNamespacedReplicaSet({
      namespace: NS.dev,
      labelSelector: `app.kubernetes.io/name=${SERVICE}`,
    });
    const live = sets.items.filter((rs) => (rs.spec?.replicas ?? 0) > 0);
    assert.equal(live.length, 1, 'the old ReplicaSet is scaled down');
    const status = await kit(['status', SERVICE, '--env=dev']);
    assert.match(status.out, new RegExp(`${V2}-r2 +${V2} +100% of traffic`));
  });

  it('stops a release whose migrations do not complete before any traffic moves, and rolls Helm back', async () => {
    const stuck = await kit(['deploy', SERVICE, '--env=stuck', `--version=${V3}`, '--output=json']);
    assert.equal(stuck.code, 1, show(stuck));
    const release = (
      JSON.parse(/\{"exitCode".*\}$/m.exec(stuck.out)?.[0] ?? '{}') as { release: ReleaseRecord }
    ).release;
    process.stdout.write(`# stuck migration: ${release.reason ?? ''}\n`);
    assert.equal(release.steps.find((s) => s.status === 'failed')?.kind, 'start');
    assert.match(
      release.reason ?? '',
      /pre-upgrade hooks failed|timed out waiting for the condition/,
    );
    const deployment = await apps.readNamespacedDeployment({ name: SERVICE, namespace: NS.dev });
    assert.equal(deployment.spec?.template.spec?.containers[0]?.image, `flotilla/${SERVICE}:${V2}`);
    assert.equal(deployment.status?.availableReplicas, 2, 'the running version kept all its pods');
  });

  it('refuses in staging what dev has not released, then releases it blue-green: preview, analysis, promotion', async () => {
    const refused = await kit(['deploy', SERVICE, '--env=staging', `--version=${V3}`]);
    assert.equal(refused.code, 3, show(refused));
    assert.match(refused.out, /has not been released in dev/);
    const first = await kit(['deploy', SERVICE, '--env=staging', `--version=${V1}`]);
    assert.equal(first.code, 0, show(first));
    const traffic = serveNewPods(NS.staging, 0);
    const second = await kit(['deploy', SERVICE, '--env=staging', `--version=${V2}`]).finally(
      traffic.stop,
    );
    assert.equal(second.code, 0, show(second));
    assert.equal(await image(NS.staging, 'Rollout'), `flotilla/${SERVICE}:${V2}`);
    assert.match(second.out, /shift +switch all traffic/);
  });

  it('releases production by canary only with an approval, the AnalysisRuns reported at each step', async () => {
    const first = await kit(['deploy', SERVICE, '--env=production', `--version=${V1}`], {
      FLOTILLA_APPROVED_BY: 'release-manager',
    });
    assert.equal(first.code, 0, show(first));
    const unapproved = await kit(['deploy', SERVICE, '--env=production', `--version=${V2}`]);
    assert.equal(unapproved.code, 3, show(unapproved));
    assert.match(unapproved.out, /production needs an approval/);
    const traffic = serveNewPods(NS.production, 0);
    const canary = await kit(
      ['deploy', SERVICE, '--env=production', `--version=${V2}`, '--output=json'],
      {
        FLOTILLA_APPROVED_BY: 'release-manager',
      },
    ).finally(traffic.stop);
    assert.equal(canary.code, 0, show(canary));
    const release = (
      JSON.parse(/\{"exitCode".*\}$/m.exec(canary.out)?.[0] ?? '{}') as { release: ReleaseRecord }
    ).release;
    const figures = release.steps
      .filter((s) => s.kind === 'analyse')
      .flatMap((s) => s.figures ?? []);
    assert.ok(
      figures.some(
        (f) => /AnalysisRun .* (Running|Successful)/.test(f.reason) && f.successRate === 1,
      ),
      JSON.stringify(figures),
    );
    assert.equal(await image(NS.production, 'Rollout'), `flotilla/${SERVICE}:${V2}`);
  });

  it('aborts a canary whose analysis fails, rolls it back with Helm, and exits 1 with the figures', async () => {
    for (const env of ['dev', 'staging'] as const) {
      const traffic = serveNewPods(NS[env], 0);
      const promoted = await kit(['deploy', SERVICE, `--env=${env}`, `--version=${V3}`]).finally(
        traffic.stop,
      );
      assert.equal(promoted.code, 0, show(promoted));
    }
    const traffic = serveNewPods(NS.production, 0.3);
    const bad = await kit(
      ['deploy', SERVICE, '--env=production', `--version=${V3}`, '--output=json'],
      {
        FLOTILLA_APPROVED_BY: 'release-manager',
      },
    ).finally(traffic.stop);
    assert.equal(bad.code, 1, show(bad));
    const release = (
      JSON.parse(/\{"exitCode".*\}$/m.exec(bad.out)?.[0] ?? '{}') as { release: ReleaseRecord }
    ).release;
    assert.equal(release.result, 'rolled-back');
    const failed = release.steps.find((s) => s.status === 'failed');
    assert.ok(
      failed?.figures?.some((f) => f.verdict === 'failed' && (f.successRate ?? 1) < 0.99),
      JSON.stringify(release.steps),
    );
    assert.equal(
      await image(NS.production, 'Rollout'),
      `flotilla/${SERVICE}:${V2}`,
      'Helm put the stable version back',
    );
  });

  it('a second deploy is refused while another holds the Lease', async () => {
    // Another deploy (a CI job on another machine) holds the Lease and keeps renewing it.
    const name = `flotilla-deploy-${SERVICE}`;
    const held = {
      holderIdentity: 'ci@runner-7, pid 42',
      leaseDurationSeconds: 30,
      acquireTime: new V1MicroTime(),
      renewTime: new V1MicroTime(),
    };
    const existing = await coordination
      .readNamespacedLease({ name, namespace: NS.dev })
      .catch(() => undefined);
    if (existing) {
      await coordination.replaceNamespacedLease({
        name,
        namespace: NS.dev,
        body: { ...existing, spec: held },
      });
    } else {
      await coordination.createNamespacedLease({
        namespace: NS.dev,
        body: { metadata: { name }, spec: held },
      });
    }
    const refused = await kit(['deploy', SERVICE, '--env=dev', `--version=${V3}`]);
    assert.equal(refused.code, 3, show(refused));
    assert.match(refused.out, /in progress \(ci@runner-7, pid 42/);
    await coordination.deleteNamespacedLease({
      name: `flotilla-deploy-${SERVICE}`,
      namespace: NS.dev,
    });
  });

  it('rolls dev back to the previous release', async () => {
    // dev released V1, V2, then V3 on its way to production: back to V2.
    const result = await kit(['rollback', SERVICE, '--env=dev']);
    assert.equal(result.code, 0, show(result));
    assert.equal(await image(NS.dev, 'Deployment'), `flotilla/${SERVICE}:${V2}`);
    assert.equal((await ledger(NS.dev)).at(-1)?.strategy, 'rollback');
    // Helm's own rollback to the revision V2 made (2): its chart and values, as revision 5.
    const history = await helmHistoryOf(NS.dev);
    assert.match(history.at(-1)?.description ?? '', /Rollback to 2/);
  });
});
