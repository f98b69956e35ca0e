import {
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { UsageError } from '../platform.ts';

/** The API clients of one kube context, and what the platform does with them. */
export function connect(context: string, kubeconfig?: string) {
  const config = new KubeConfig();
  if (kubeconfig) config.loadFromFile(kubeconfig);
  else config.loadFromDefault();
  const known = config.getContexts().map((c) => c.name);
  if (!known.includes(context)) {
    throw new UsageError(
      `no kube context "${context}" in ${kubeconfig ?? process.env['KUBECONFIG'] ?? '~/.kube/config'} (it has ${known.join(', ') || 'none'}); set KUBECONFIG or the environment's kubernetes.context`,
    );
  }
  config.setCurrentContext(context);
  return {
    config,
    apps: config.makeApiClient(AppsV1Api),
    core: config.makeApiClient(CoreV1Api),
    coordination: config.makeApiClient(CoordinationV1Api),
    custom: config.makeApiClient(CustomObjectsApi),
    /** A JSON merge patch, as `kubectl patch --type merge` sends it. */
    mergePatch: setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  };
}

export type Cluster = ReturnType<typeof connect>;

/** The HTTP status of an API error (404, 409...), or undefined for anything else. */
export function statusOf(err: unknown): number | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}
