// Every chart x environment x strategy, as `helm template` renders it (hooks included), is accepted
// by a real Kubernetes API server with every CRD the charts use installed (Argo Rollouts, Flagger,
// the Prometheus Operator, External Secrets, Istio): `kubectl apply --dry-run=server`, with strict
// field validation, so an unknown or misspelt field is refused as a bad type is. Needs KUBECONFIG
// and the CRDs (tools/infra/src/with-kube.ts --crds).
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { ENVIRONMENTS, SERVICE_CHARTS, STRATEGIES, render, type K8sObject } from '../src/helm.ts';
import { kubectl, ok } from './kubectl.ts';

const NAMESPACE = 'flotilla-dry-run';
const CRDS = [
  'rollouts.argoproj.io',
  'analysistemplates.argoproj.io',
  'canaries.flagger.app',
  'metrictemplates.flagger.app',
  'podmonitors.monitoring.coreos.com',
  'prometheusrules.monitoring.coreos.com',
  'externalsecrets.external-secrets.io',
  'virtualservices.networking.istio.io',
  'destinationrules.networking.istio.io',
];

const dryRun = (objects: K8sObject[]) =>
  kubectl(
    ['apply', '--dry-run=server', '--validate=strict', '-n', NAMESPACE, '-o', 'name', '-f', '-'],
    { input: objects.map((o) => `---\n${stringify(o)}`).join('') },
  );

before(async () => {
  ok('kubectl get crd', await kubectl(['get', 'crd', ...CRDS]));
  const ns = await kubectl(['create', 'namespace', NAMESPACE, '--dry-run=client', '-o', 'yaml']);
  ok('kubectl apply namespace', await kubectl(['apply', '-f', '-'], { input: ns.stdout }));
});

describe('the API server accepts every rendered manifest', () => {
  for (const chart of ['flotilla', ...SERVICE_CHARTS]) {
    for (const environment of ENVIRONMENTS) {
      for (const strategy of STRATEGIES) {
        it(`${chart} ${environment} ${strategy}`, async () => {
          const objects = render(chart, { environment, strategy });
          const result = await dryRun(objects);
          assert.equal(result.code, 0, result.stderr);
          // one line per object: nothing was skipped
          assert.equal(result.stdout.trim().split('\n').length, objects.length, result.stdout);
        });
      }
    }
  }
});

describe('the API server refuses a broken manifest', () => {
  const objects = () => render('user-service', { environment: 'staging', strategy: 'canary' });
  const broken = (kind: string, change: (o: K8sObject) => void) =>
    objects().map((o) => {
      if (o.kind === kind) change(o);
      return o;
    });

  it('a Deployment whose replicas is not a number', async () => {
    const result = await dryRun(
      render('user-service', { environment: 'dev', strategy: 'rolling' }).map((o) => {
        if (o.kind === 'Deployment') o.spec.replicas = 'two';
        return o;
      }),
    );
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /replicas/);
  });

  it('a Rollout with a misspelt field (strict field validation)', async () => {
    const result = await dryRun(broken('Rollout', (o) => void (o.spec.strategy.canary.stepz = [])));
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /unknown field "spec.strategy.canary.stepz"/);
  });

  it('an AnalysisTemplate metric without a provider (its CRD schema)', async () => {
    const result = await dryRun(
      broken('AnalysisTemplate', (o) => void delete o.spec.metrics[0].provider),
    );
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /provider/);
  });

  it('a Flagger Canary with a weight that is not a number (its CRD schema)', async () => {
    const flagger = render('user-service', { environment: 'staging', strategy: 'flagger' }).map(
      (o) => {
        if (o.kind === 'Canary') o.spec.analysis.stepWeight = 'ten';
        return o;
      },
    );
    const result = await dryRun(flagger);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /stepWeight/);
  });
});
