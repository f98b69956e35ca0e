import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import {
  ENVIRONMENTS,
  ROOT,
  SERVICE_CHARTS,
  helm,
  parseManifests,
  type K8sObject,
} from './helm.ts';
import { validateObject } from './schemas.ts';

const read = (file: string) =>
  parse(readFileSync(`${ROOT}deploy/argocd/${file}`, 'utf8')) as K8sObject;
const project = read('project.yaml');
const applicationSet = read('applicationset.yaml');

interface Element {
  service?: string;
  env?: string;
  namespace?: string;
  autoSync?: boolean;
}

/** The ApplicationSet's matrix generator, expanded as Argo CD expands it. */
function applications(): Element[] {
  const [services, environments] = applicationSet.spec.generators[0].matrix.generators.map(
    (g: { list: { elements: Element[] } }) => g.list.elements,
  ) as [Element[], Element[]];
  return services.flatMap((s) => environments.map((e) => ({ ...s, ...e })));
}

/** The Go template expressions the parameters use: `eq .a "x"`, `and (...) (...)`, `ne .a "x"`. */
function evaluate(expression: string, element: Element): string {
  const value = (name: string) => String(element[name as keyof Element]);
  const single = (text: string): boolean => {
    const m = /^(eq|ne) \.(\w+) "([^"]*)"$/.exec(text.trim());
    if (!m) throw new Error(`unsupported expression ${text}`);
    return m[1] === 'eq' ? value(m[2]!) === m[3] : value(m[2]!) !== m[3];
  };
  const inner = expression.replace(/^\{\{\s*|\s*\}\}$/g, '');
  const and = /^and \((.+)\) \((.+)\)$/.exec(inner);
  return String(and ? single(and[1]!) && single(and[2]!) : single(inner));
}

describe('Argo CD', () => {
  it('project and ApplicationSet are valid against the Argo CD schemas', async () => {
    assert.deepEqual(await validateObject(project), []);
    assert.deepEqual(await validateObject(applicationSet), []);
  });

  it('makes one Application per service and environment, in the project, to its namespace', () => {
    const apps = applications();
    assert.equal(apps.length, SERVICE_CHARTS.length * ENVIRONMENTS.length);
    const allowed = project.spec.destinations.map((d: { namespace: string }) => d.namespace);
    for (const app of apps)
      assert.ok(allowed.includes(app.namespace), `${app.namespace} is not a destination`);
    assert.equal(applicationSet.spec.template.spec.project, project.metadata.name);
  });

  it('syncs dev and staging automatically with self-heal, production only by hand', () => {
    for (const app of applications()) assert.equal(app.autoSync, app.env !== 'production', app.env);
    assert.match(
      applicationSet.spec.templatePatch,
      /\{\{- if \.autoSync \}\}[\s\S]*automated:[\s\S]*selfHeal: true/,
    );
    assert.equal(applicationSet.spec.template.spec.syncPolicy.automated, undefined);
  });

  it('each Application renders only its service, and together they render each object once', () => {
    const source = applicationSet.spec.template.spec.source;
    for (const environment of ENVIRONMENTS) {
      const seen = new Map<string, string>();
      for (const app of applications().filter((a) => a.env === environment)) {
        const args = ['template', app.service!, source.path, '--namespace', app.namespace!];
        args.push('-f', `deploy/environments/values-${environment}.yaml`);
        for (const p of source.helm.parameters as { name: string; value: string }[]) {
          args.push('--set', `${p.name}=${evaluate(p.value, app)}`);
        }
        const result = helm(...args);
        assert.equal(result.code, 0, result.stderr);
        const objects = parseManifests(result.stdout);
        const workloads = objects.filter((o) => ['Deployment', 'Rollout'].includes(o.kind));
        assert.deepEqual(
          workloads.map((w) => w.metadata.name),
          [app.service],
        );
        for (const o of objects) {
          const key = `${o.kind}/${o.metadata.name}`;
          assert.ok(!seen.has(key), `${key} rendered by ${seen.get(key)} and ${app.service}`);
          seen.set(key, app.service!);
        }
      }
      assert.ok(
        [...seen.keys()].some((k) => k.endsWith('-default-deny')),
        `${environment}: no default deny`,
      );
    }
  });

  it('lets the project deploy every kind the charts render, and nothing cluster-wide', () => {
    const kinds = new Set(
      project.spec.namespaceResourceWhitelist.map((r: { kind: string }) => r.kind),
    );
    assert.deepEqual(project.spec.clusterResourceWhitelist, []);
    const result = helm(
      'template',
      'x',
      'helm/flotilla',
      '-f',
      'deploy/environments/values-production.yaml',
    );
    for (const o of parseManifests(result.stdout))
      assert.ok(kinds.has(o.kind), `${o.kind} is not allowed`);
  });
});
