import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SLO } from '@flotilla/promql';
import { ENVIRONMENTS, EXAMPLE_TAG, STRATEGIES, helm, render, type K8sObject } from './helm.ts';

const WORKLOADS = new Set(['Deployment', 'Rollout']);
const matches = (selector: Record<string, string>, labels: Record<string, string> = {}) =>
  Object.entries(selector).every(([key, value]) => labels[key] === value);

const podSpecs = (
  objects: K8sObject[],
): { owner: K8sObject; spec: K8sObject['spec']; labels: Record<string, string> }[] =>
  objects.flatMap((o) =>
    WORKLOADS.has(o.kind) || o.kind === 'Job'
      ? [{ owner: o, spec: o.spec.template.spec, labels: o.spec.template.metadata?.labels ?? {} }]
      : [],
  );

for (const environment of ENVIRONMENTS) {
  for (const strategy of STRATEGIES) {
    describe(`policies: the whole system in ${environment} with ${strategy}`, () => {
      const objects = render('flotilla', { environment, strategy });
      const workloads = objects.filter((o) => WORKLOADS.has(o.kind));
      const kindOf = (kind: string) => objects.filter((o) => o.kind === kind);

      it('runs every service with the workload its strategy needs', () => {
        assert.equal(workloads.length, 4);
        for (const w of workloads)
          assert.equal(
            w.kind,
            strategy === 'rolling' || strategy === 'flagger' ? 'Deployment' : 'Rollout',
          );
      });

      it('gives every container requests, limits, a non-root user and no privileges', () => {
        for (const { owner, spec } of podSpecs(objects)) {
          assert.equal(spec.securityContext.runAsNonRoot, true, owner.metadata.name);
          assert.equal(spec.securityContext.seccompProfile.type, 'RuntimeDefault');
          assert.equal(spec.automountServiceAccountToken, false);
          for (const c of spec.containers) {
            assert.ok(
              c.resources?.requests?.cpu && c.resources?.requests?.memory,
              `${c.name} requests`,
            );
            assert.ok(c.resources?.limits?.cpu && c.resources?.limits?.memory, `${c.name} limits`);
            assert.equal(c.securityContext.readOnlyRootFilesystem, true);
            assert.equal(c.securityContext.allowPrivilegeEscalation, false);
            assert.deepEqual(c.securityContext.capabilities.drop, ['ALL']);
          }
        }
      });

      it('probes every service: startup and liveness on /health, readiness on /ready', () => {
        for (const w of workloads) {
          const [c] = w.spec.template.spec.containers;
          assert.equal(c.startupProbe.httpGet.path, '/health');
          assert.equal(c.livenessProbe.httpGet.path, '/health');
          assert.equal(c.readinessProbe.httpGet.path, '/ready');
        }
      });

      it('waits longer on termination than the service drains, after a preStop wait', () => {
        const configs = new Map(kindOf('ConfigMap').map((c) => [c.metadata.name, c.data]));
        for (const w of workloads) {
          const spec = w.spec.template.spec;
          const config = configs.get(w.metadata.name);
          const drainSeconds =
            (Number(config.SHUTDOWN_DRAIN_DELAY_MS) + Number(config.SHUTDOWN_TIMEOUT_MS)) / 1000;
          const preStop = Number(spec.containers[0].lifecycle.preStop.exec.command[1]);
          assert.ok(spec.terminationGracePeriodSeconds > preStop + drainSeconds, w.metadata.name);
          assert.match(w.spec.template.metadata.annotations['checksum/config'], /^[0-9a-f]{64}$/);
        }
      });

      it('uses no latest tag outside dev, and only commit ids or digests in production', () => {
        for (const { spec } of podSpecs(objects)) {
          for (const c of spec.containers) {
            if (environment !== 'dev') assert.doesNotMatch(c.image, /:latest$/);
            if (environment === 'production')
              assert.match(c.image, /(:[0-9a-f]{7,40}|@sha256:[0-9a-f]{64})$/);
          }
        }
      });

      it('selects its own pods everywhere: workload, Service, PDB, HPA, NetworkPolicy', () => {
        const pdbs = kindOf('PodDisruptionBudget');
        const policies = kindOf('NetworkPolicy');
        for (const w of workloads) {
          const labels = w.spec.template.metadata.labels;
          assert.ok(matches(w.spec.selector.matchLabels, labels), `${w.metadata.name} selector`);
          assert.ok(
            pdbs.some((p) => matches(p.spec.selector.matchLabels, labels)),
            `${w.metadata.name} has no PDB`,
          );
          assert.ok(
            policies.some(
              (p) =>
                Object.keys(p.spec.podSelector.matchLabels ?? {}).length > 0 &&
                matches(p.spec.podSelector.matchLabels, labels),
            ),
            `${w.metadata.name} has no NetworkPolicy`,
          );
          if (strategy === 'flagger') {
            // Flagger makes the Services; its Canary must drive this Deployment.
            const canary = kindOf('Canary').find((c) => c.metadata.name === w.metadata.name);
            assert.deepEqual(canary?.spec.targetRef, {
              apiVersion: 'apps/v1',
              kind: 'Deployment',
              name: w.metadata.name,
            });
            continue;
          }
          const service = kindOf('Service').find((s) => s.metadata.name === w.metadata.name);
          assert.ok(
            service && matches(service.spec.selector, labels),
            `${w.metadata.name} Service`,
          );
        }
        for (const hpa of kindOf('HorizontalPodAutoscaler')) {
          const target = workloads.find((w) => w.metadata.name === hpa.spec.scaleTargetRef.name);
          assert.equal(target?.kind, hpa.spec.scaleTargetRef.kind);
        }
        assert.ok(
          policies.some((p) => Object.keys(p.spec.podSelector).length === 0),
          'no default deny',
        );
      });

      it('keeps secrets out of ConfigMaps and renders no Secret', () => {
        assert.equal(kindOf('Secret').length, 0);
        for (const config of kindOf('ConfigMap')) {
          for (const key of Object.keys(config.data)) {
            assert.doesNotMatch(
              key,
              /SECRET|PASSWORD|TOKEN|PRIVATE_KEY|DATABASE_URL|REDIS_URL|SERVICE_CLIENTS/,
            );
          }
        }
      });

      it('runs the migration Job as the namespace default account, which exists before any hook', () => {
        const jobs = kindOf('Job');
        assert.ok(jobs.length > 0);
        for (const job of jobs) {
          assert.match(job.metadata.annotations?.['helm.sh/hook'] ?? '', /pre-install/);
          assert.equal(job.spec.template.spec.serviceAccountName, 'default');
          assert.equal(job.spec.template.spec.automountServiceAccountToken, false);
        }
      });

      if (strategy === 'blueGreen' || strategy === 'canary') {
        it('measures only once the new pods were scraped, and calls too little traffic inconclusive', () => {
          for (const template of kindOf('AnalysisTemplate')) {
            for (const metric of template.spec.metrics) {
              assert.match(metric.initialDelay, /^[1-9][0-9]*(s|m)$/);
              assert.ok(metric.inconclusiveLimit >= 1, 'one empty window must not end the run');
              // the value only exists while the new pods served at least minRequests
              assert.match(
                metric.provider.prometheus.query,
                /and on\(\) \(sum\(increase\(http_server_requests_total\{service="[a-z-]+",rollouts_pod_template_hash="\{\{args.pod-template-hash\}\}".*\}\[1m\]\)\) >= 20\)/,
              );
            }
          }
        });
      }

      if (strategy === 'flagger') {
        it('lets Flagger judge each step by the SLO, on the canary pods only', () => {
          const templates = new Map(kindOf('MetricTemplate').map((t) => [t.metadata.name, t]));
          for (const canary of kindOf('Canary')) {
            const [success, latency] = canary.spec.analysis.metrics;
            assert.equal(success.thresholdRange.min, SLO.minSuccessRate * 100);
            assert.equal(latency.thresholdRange.max, SLO.maxP99Seconds * 1000);
            for (const metric of [success, latency]) {
              const query = templates.get(metric.templateRef.name)?.spec.query ?? '';
              assert.match(query, /pod=~"\{\{ target \}\}-\[0-9a-zA-Z\]\+\(-\[0-9a-zA-Z\]\+\)"/);
              assert.match(query, new RegExp(`service="${canary.metadata.name}"`));
            }
          }
        });

        it('keeps the primary pods Flagger makes (app: <name>-primary) under the PDB and policies', () => {
          for (const w of workloads) {
            assert.equal(w.spec.selector.matchLabels.app, w.metadata.name);
            const primary = {
              ...w.spec.template.metadata.labels,
              app: `${w.metadata.name}-primary`,
            };
            assert.ok(
              kindOf('PodDisruptionBudget').some((p) =>
                matches(p.spec.selector.matchLabels, primary),
              ),
            );
            assert.ok(
              kindOf('NetworkPolicy').some(
                (p) =>
                  Object.keys(p.spec.podSelector.matchLabels ?? {}).length > 0 &&
                  matches(p.spec.podSelector.matchLabels, primary),
              ),
            );
          }
        });
      }

      if (strategy === 'blueGreen' || strategy === 'canary') {
        it('judges a release by the SLO of the Prometheus rules', () => {
          for (const template of kindOf('AnalysisTemplate')) {
            const [success, latency] = template.spec.metrics;
            assert.equal(
              success.successCondition,
              `len(result) > 0 && result[0] >= ${SLO.minSuccessRate}`,
            );
            assert.equal(
              latency.successCondition,
              `len(result) > 0 && result[0] <= ${SLO.maxP99Seconds}`,
            );
            assert.match(success.provider.prometheus.query, /http_server_requests_total/);
          }
        });
      }
    });
  }
}

describe('release strategies', () => {
  it('canary through Istio: the Rollout drives the VirtualService and DestinationRule subsets', () => {
    const objects = render('user-service', {
      environment: 'staging',
      strategy: 'canary',
      set: ['istio.enabled=true'],
    });
    const rollout = objects.find((o) => o.kind === 'Rollout')!;
    const istio = rollout.spec.strategy.canary.trafficRouting.istio;
    const vs = objects.find((o) => o.kind === 'VirtualService')!;
    const dr = objects.find((o) => o.kind === 'DestinationRule')!;
    assert.equal(istio.virtualService.name, vs.metadata.name);
    assert.deepEqual(istio.virtualService.routes, [vs.spec.http[0].name]);
    assert.deepEqual(dr.spec.subsets.map((s: { name: string }) => s.name).sort(), [
      'canary',
      'stable',
    ]);
    assert.ok(
      objects.some(
        (o) =>
          o.kind === 'Service' && o.metadata.name === rollout.spec.strategy.canary.canaryService,
      ),
    );
  });

  it('blue-green: a preview Service, no automatic promotion, the analysis before promotion', () => {
    const objects = render('order-service', { environment: 'staging', strategy: 'blueGreen' });
    const rollout = objects.find((o) => o.kind === 'Rollout')!;
    const blueGreen = rollout.spec.strategy.blueGreen;
    assert.equal(blueGreen.autoPromotionEnabled, false);
    assert.ok(
      objects.some((o) => o.kind === 'Service' && o.metadata.name === blueGreen.previewService),
    );
    assert.equal(
      blueGreen.prePromotionAnalysis.templates[0].templateName,
      'order-service-analysis',
    );
  });

  it('rolling: surge without taking a pod away', () => {
    const deployment = render('payment-service', { environment: 'dev', strategy: 'rolling' }).find(
      (o) => o.kind === 'Deployment',
    )!;
    assert.deepEqual(deployment.spec.strategy.rollingUpdate, {
      maxSurge: '25%',
      maxUnavailable: 0,
    });
  });
});

describe('image tags by environment', () => {
  const template = (environment: string, tag: string) =>
    helm(
      'template',
      'x',
      'helm/user-service',
      '--set',
      `global.environment=${environment}`,
      '--set',
      `image.tag=${tag}`,
    );

  it('production refuses latest, a branch and a version; accepts a commit id', () => {
    for (const tag of ['latest', 'main', '1.2.3']) {
      const result = template('production', tag);
      assert.notEqual(result.code, 0, tag);
      assert.match(result.stderr, /production needs (an immutable image|a commit-id tag)/);
    }
    assert.equal(template('production', EXAMPLE_TAG).code, 0);
  });

  it('staging refuses latest; dev may run it', () => {
    assert.match(template('staging', 'latest').stderr, /latest tag is for dev only/);
    assert.equal(template('dev', 'latest').code, 0);
  });
});
