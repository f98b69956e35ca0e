import type { K8sObject } from './helm.ts';

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
 * Rollouts, Argo CD, Istio, the Prometheus Operator and External Secrets. Returns the errors.
 */
export async function validateObject(object: K8sObject): Promise<string[]> {
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
