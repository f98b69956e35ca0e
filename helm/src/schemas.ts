import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { parseAllDocuments } from 'yaml';
import type { K8sObject } from './helm.ts';

/** Flagger's module on the Go module proxy: its CRDs are the schema of what the charts render. */
export const FLAGGER_MODULE = 'github.com/fluxcd/flagger@v1.36.1';

let flaggerValidators: Map<string, ValidateFunction> | undefined;

/**
 * Validators of Flagger's kinds (Canary, MetricTemplate, AlertProvider) from the openAPIV3Schema
 * of its own CRDs (`artifacts/flagger/crd.yaml` of the module; no models package exists). Needs
 * `go`; the module is cached after the first download.
 */
function flaggerValidator(kind: string): ValidateFunction | undefined {
  if (!flaggerValidators) {
    let dir: string;
    try {
      const info = execFileSync('go', ['mod', 'download', '-json', FLAGGER_MODULE], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, GOFLAGS: '-mod=mod' },
      });
      dir = (JSON.parse(info) as { Dir: string }).Dir;
    } catch (err) {
      throw new Error(
        `could not fetch ${FLAGGER_MODULE} with \`go mod download\`: install Go and make the Go module proxy reachable`,
        { cause: err },
      );
    }
    // Kubernetes' structural schemas: formats and x-kubernetes-* extensions are not JSON Schema's.
    const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
    flaggerValidators = new Map();
    const text = readFileSync(join(dir, 'artifacts', 'flagger', 'crd.yaml'), 'utf8');
    for (const doc of parseAllDocuments(text)) {
      const crd = doc.toJS() as {
        spec: {
          names: { kind: string };
          versions: { name: string; schema: { openAPIV3Schema: object } }[];
        };
      } | null;
      const version = crd?.spec.versions.find((v) => v.name === 'v1beta1');
      if (crd && version)
        flaggerValidators.set(crd.spec.names.kind, ajv.compile(version.schema.openAPIV3Schema));
    }
  }
  return flaggerValidators.get(kind);
}

/** Where the model (with its OpenAPI schema) of an apiVersion lives. */
function modelModule(apiVersion: string): string {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  if (group === 'argoproj.io')
    return apiVersion.endsWith('v1alpha1')
      ? '@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1'
      : '';
  if (group === 'networking.istio.io')
    return `@kubernetes-models/istio/networking.istio.io/${version}`;
  if (group === 'monitoring.coreos.com')
    return `@kubernetes-models/prometheus-operator/monitoring.coreos.com/${version}`;
  if (group === 'external-secrets.io')
    return `@kubernetes-models/external-secrets/external-secrets.io/${version}`;
  return group ? `kubernetes-models/${group}/${version}` : `kubernetes-models/${version}`;
}

const ARGO_CD_KINDS = new Set(['Application', 'ApplicationSet', 'AppProject']);

/**
 * Validates an object against the schema of its kind: Kubernetes' own (kubernetes-models), Argo
 * Rollouts, Argo CD, Istio, the Prometheus Operator, External Secrets and Flagger. Returns the
 * errors.
 */
export async function validateObject(object: K8sObject): Promise<string[]> {
  if (object.apiVersion === 'flagger.app/v1beta1') {
    const check = flaggerValidator(object.kind);
    if (!check) return [`no schema for ${object.apiVersion} ${object.kind}`];
    const name = `${object.kind}/${object.metadata.name}`;
    if (check(object)) return [];
    return (check.errors ?? []).map((e) => `${name}: ${e.instancePath || '/'} ${e.message ?? ''}`);
  }
  const module =
    object.apiVersion === 'argoproj.io/v1alpha1' && ARGO_CD_KINDS.has(object.kind)
      ? '@kubernetes-models/argo-cd/argoproj.io/v1alpha1'
      : modelModule(object.apiVersion);
  let Model: (new (data: unknown) => { validate(): void }) | undefined;
  try {
    const models = (await import(module)) as Record<
      string,
      new (data: unknown) => { validate(): void }
    >;
    Model = models[object.kind];
  } catch {
    Model = undefined;
  }
  if (!Model) return [`no schema for ${object.apiVersion} ${object.kind}`];
  try {
    new Model(object).validate();
    return [];
  } catch (err) {
    return [`${object.kind}/${object.metadata.name}: ${(err as Error).message}`];
  }
}
