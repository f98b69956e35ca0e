// Helpers of the cluster suites: kubectl and helm against KUBECONFIG (tools/infra/src/with-kube.ts
// sets it), each call bounded in time, a failure carrying the command and its output.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ROOT, helmBinary } from '../src/helm.ts';

export { ROOT };

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function exec(
  file: string,
  args: string[],
  {
    input,
    timeoutMs = 120_000,
    env = process.env,
  }: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv },
): Promise<Result> {
  return new Promise((resolve) => {
    const child = execFile(
      file,
      args,
      { cwd: ROOT, env, timeout: timeoutMs, maxBuffer: 64 * 2 ** 20, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr: err?.killed ? `${stderr}\n(timed out)` : stderr });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** `kubectl ...`; resolves with its exit code and output. */
export const kubectl = (args: string[], options: { input?: string; timeoutMs?: number } = {}) =>
  exec('kubectl', args, options);

/** `helm ...` from the repository root; resolves with its exit code and output. */
export const helmRun = (
  args: string[],
  options: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
) => exec(helmBinary(), args, options);

/** Throws with the command and its output unless it exited 0; else its trimmed stdout. */
export function ok(what: string, result: Result): string {
  if (result.code !== 0)
    throw new Error(`${what} exited ${result.code}:\n${result.stderr}${result.stdout}`);
  return result.stdout.trim();
}

/** `kubectl ... -o json`, parsed. */
export async function getJson<T>(args: string[]): Promise<T> {
  return JSON.parse(ok(`kubectl ${args.join(' ')}`, await kubectl([...args, '-o', 'json']))) as T;
}

export { until } from '@flotilla/testing';

/**
 * The install commands of the README's "Deploying to Kubernetes" section (its sh block with
 * `helm upgrade --install`), as a script: the suites run them as they are written, with their own
 * values for the settings the README's block before it exports.
 */
export function readmeInstallCommands(): string {
  const readme = readFileSync(`${ROOT}README.md`, 'utf8');
  const start = readme.indexOf('## Deploying to Kubernetes');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  const block = [...section.matchAll(/```sh\n([\s\S]*?)```/g)]
    .map((match) => match[1]!)
    .find((text) => text.includes('helm upgrade --install'));
  if (!block)
    throw new Error(
      'README.md: no sh block with helm upgrade --install under "## Deploying to Kubernetes"',
    );
  return block;
}

/** The Secrets' values the README's commands read from the environment. */
export interface InstallSettings {
  namespace: string;
  imageRegistry: string;
  imageTag: string;
  usersDatabaseUrl: string;
  paymentsDatabaseUrl: string;
  ordersDatabaseUrl: string;
  redisUrl: string;
  adminToken: string;
  orderServiceClientSecret: string;
}

/** Runs the README's install commands with these settings; resolves with their output. */
export function runReadmeInstall(settings: InstallSettings, timeoutMs = 420_000): Promise<Result> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    HOME: process.env['HOME'],
    KUBECONFIG: process.env['KUBECONFIG'],
    NAMESPACE: settings.namespace,
    IMAGE_REGISTRY: settings.imageRegistry,
    IMAGE_TAG: settings.imageTag,
    USERS_DATABASE_URL: settings.usersDatabaseUrl,
    PAYMENTS_DATABASE_URL: settings.paymentsDatabaseUrl,
    ORDERS_DATABASE_URL: settings.ordersDatabaseUrl,
    REDIS_URL: settings.redisUrl,
    ADMIN_TOKEN: settings.adminToken,
    ORDER_SERVICE_CLIENT_SECRET: settings.orderServiceClientSecret,
  };
  return exec('bash', ['-euo', 'pipefail', '-c', readmeInstallCommands()], { env, timeoutMs });
}
