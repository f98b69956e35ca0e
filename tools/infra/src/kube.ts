import { execFile, spawnSync } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** tools/infra/kube.sh: the project's own cluster (install, up, down, state, load, crds). */
export const KUBE_SH = fileURLToPath(new URL('../kube.sh', import.meta.url));

/** Where kube.sh keeps everything (`FLOTILLA_KUBE_CACHE`). */
export function kubeCacheDir(env: NodeJS.ProcessEnv): string {
  return (
    env['FLOTILLA_KUBE_CACHE'] ||
    join(env['XDG_CACHE_HOME'] || join(env['HOME'] || homedir(), '.cache'), 'flotilla-kube')
  );
}

/** The kubeconfig of the cluster `kube.sh up` starts. */
export function ownKubeconfig(env: NodeJS.ProcessEnv): string {
  return join(kubeCacheDir(env), 'state', 'kubeconfig');
}

/** The folder of kubectl (v1.33, version-stamped), kubectl-argo-rollouts and the cluster's own binaries. */
export function kubeBinDir(env: NodeJS.ProcessEnv): string {
  return join(kubeCacheDir(env), 'prefix', 'bin');
}

/** What `kube.sh state` prints: the project's cluster as it runs now. */
export interface KubeState {
  up: boolean;
  kubeconfig: string;
  context: string;
  server: string;
  /** The API server's version, e.g. `v1.33.13`; null when it is down. */
  version: string | null;
  /** The folder of kubectl, kubectl-argo-rollouts and the cluster's own binaries. */
  bin: string;
  /** The simulated node: pods become Ready without running. Cordoned while the real node is up. */
  kwokNode: string;
  /** The real node's name when it is up: its pods run the images loaded with {@link loadImages}. */
  realNode: string | null;
  rollouts: boolean;
  flagger: boolean;
  podSubnet: string;
  serviceCidr: string;
  /** Folder of the cached CRDs (Flagger, Prometheus Operator, External Secrets, Istio). */
  crds: string;
  /** The command that copies images from the Docker engine into the real node. */
  load: string;
}

/** `kube.sh state`, parsed. */
export function kubeState(env: NodeJS.ProcessEnv = process.env): KubeState {
  const result = spawnSync('bash', [KUBE_SH, 'state'], { env, encoding: 'utf8' });
  if (result.status !== 0)
    throw new Error(`kube.sh state exited ${result.status}: ${result.stderr}`);
  return JSON.parse(result.stdout) as KubeState;
}

/**
 * Copies images from the Docker engine (`DOCKER_HOST`) into the real node's containerd, where pods
 * with `imagePullPolicy: IfNotPresent` or `Never` find them (nothing is ever pulled).
 */
export function loadImages(images: string[], env: NodeJS.ProcessEnv = process.env): void {
  const result = spawnSync('bash', [KUBE_SH, 'load', ...images], {
    env,
    encoding: 'utf8',
    timeout: 600_000,
  });
  if (result.status !== 0)
    throw new Error(`kube.sh load ${images.join(' ')} exited ${result.status}: ${result.stderr}`);
}

/** Whether the API server of this environment's KUBECONFIG answers /readyz within `timeoutMs`. */
export function clusterAnswers(env: NodeJS.ProcessEnv, timeoutMs = 5000): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(
      'kubectl',
      ['get', '--raw', '/readyz', `--request-timeout=${Math.ceil(timeoutMs / 1000)}s`],
      { env, timeout: timeoutMs },
      (err) => resolve(!err),
    );
  });
}
