import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const HELM_DIR = fileURLToPath(new URL('../', import.meta.url));
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const SERVICE_CHARTS = [
  'user-service',
  'payment-service',
  'order-service',
  'gateway',
] as const;
export const ENVIRONMENTS = ['dev', 'staging', 'production'] as const;
export const STRATEGIES = ['rolling', 'blueGreen', 'canary', 'flagger'] as const;

export type Environment = (typeof ENVIRONMENTS)[number];
export type Strategy = (typeof STRATEGIES)[number];

/** A rendered Kubernetes object. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- manifests are checked by schema, not by type
  spec?: any;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- as above
  data?: any;
}

/** `helm` on PATH, or where `go install helm.sh/helm/v3/cmd/helm` puts it. */
export function helmBinary(): string {
  if (spawnSync('helm', ['version', '--short']).status === 0) return 'helm';
  try {
    const gopath = execFileSync('go', ['env', 'GOPATH'], { encoding: 'utf8' }).trim();
    const candidate = join(gopath, 'bin', 'helm');
    if (existsSync(candidate)) return candidate;
  } catch {
    // no Go either: the message below says what to install
  }
  throw new Error(
    'helm is missing: go install helm.sh/helm/v3/cmd/helm@v3.19.0 (.ci/run does this)',
  );
}

export interface HelmResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs helm from the repository root. */
export function helm(...args: string[]): HelmResult {
  const result = spawnSync(helmBinary(), args, {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 64 * 2 ** 20,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The values file of an environment, relative to the repository root. */
export const environmentValues = (environment: Environment) =>
  `deploy/environments/values-${environment}.yaml`;

/** A commit-id tag, as `nx docker-build` makes them, for renders outside an environment file. */
export const EXAMPLE_TAG = '3f2a9c1d7b4e';

/**
 * `helm template` of a chart for an environment and a strategy; throws with helm's message when
 * helm refuses. The umbrella takes the environment's values file; a service chart on its own takes
 * the environment and an immutable tag.
 */
export function render(
  chart: string,
  {
    environment,
    strategy,
    set = [],
  }: { environment: Environment; strategy?: Strategy; set?: string[] },
): K8sObject[] {
  const args = ['template', 'flotilla', `helm/${chart}`, '--namespace', 'flotilla'];
  if (chart === 'flotilla') {
    args.push('-f', environmentValues(environment));
    if (strategy)
      for (const s of SERVICE_CHARTS) args.push('--set', `${s}.strategy.type=${strategy}`);
  } else {
    args.push(
      '--set',
      `global.environment=${environment}`,
      '--set',
      `global.imageTag=${EXAMPLE_TAG}`,
    );
    if (strategy) args.push('--set', `strategy.type=${strategy}`);
  }
  for (const entry of set) args.push('--set', entry);
  const result = helm(...args);
  if (result.code !== 0) throw new Error(`helm ${args.join(' ')}\n${result.stderr}`);
  return parseManifests(result.stdout);
}

export function parseManifests(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((doc) => doc.toJS() as K8sObject | null)
    .filter((obj): obj is K8sObject => obj !== null && typeof obj === 'object');
}
