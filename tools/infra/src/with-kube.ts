// Runs a command with a Kubernetes cluster, then stops whatever was started for it:
//   node tools/infra/src/with-kube.ts [--real] [--rollouts] [--flagger] [--crds] -- <command>
// A cluster that already answers through KUBECONFIG is used as it is. Otherwise the project's own
// (tools/infra/kube.sh) is used: when it runs already, the add-ons named are started on it and it
// is left running; else it is started with them, and `kube.sh down` stops it at the end and fails
// the run when the host is not as it was before. The command gets KUBECONFIG, and PATH with the
// cluster's kubectl and kubectl-argo-rollouts first. --crds applies every cached CRD (Flagger,
// Prometheus Operator, External Secrets, Istio, Argo Rollouts). `kube.sh state` tells a test what
// runs (JSON: kubeconfig, nodes, Rollouts, Flagger, how to load an image).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter } from 'node:path';
import { parseExports, runInheriting } from './engine.ts';
import { KUBE_SH, clusterAnswers, kubeBinDir, ownKubeconfig } from './kube.ts';

const ADD_ONS = new Set(['--real', '--rollouts', '--flagger']);
const separator = process.argv.indexOf('--');
const options = separator === -1 ? [] : process.argv.slice(2, separator);
const [command, ...args] = separator === -1 ? [] : process.argv.slice(separator + 1);
const unknown = options.filter((o) => !ADD_ONS.has(o) && o !== '--crds');
if (!command || unknown.length > 0) {
  process.stderr.write(
    `usage: with-kube.ts [--real] [--rollouts] [--flagger] [--crds] -- <command> [args...]${
      unknown.length > 0 ? ` (unknown: ${unknown.join(' ')})` : ''
    }\n`,
  );
  process.exit(2);
}
const addOns = options.filter((o) => ADD_ONS.has(o));
const log = (message: string) => process.stderr.write(`[kube] ${message}\n`);

/** kube.sh VERB...; its exports on stdout, its progress straight to stderr. */
function kubeSh(
  verbs: string[],
  env: NodeJS.ProcessEnv,
): { ok: boolean; exports: Record<string, string> } {
  const result = spawnSync('bash', [KUBE_SH, ...verbs], {
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return { ok: result.status === 0, exports: parseExports(result.stdout ?? '') };
}

const env: NodeJS.ProcessEnv = { ...process.env };
const bin = kubeBinDir(env);
if (existsSync(bin)) env['PATH'] = `${bin}${delimiter}${env['PATH'] ?? ''}`;

let started = false;
const foreign = env['KUBECONFIG'] && env['KUBECONFIG'] !== ownKubeconfig(env);
if (foreign && (await clusterAnswers(env))) {
  log(`using the cluster that answers through KUBECONFIG=${env['KUBECONFIG']}`);
  if (addOns.length > 0) log(`it is used as it is: ${addOns.join(' ')} not started on it`);
} else {
  const running = kubeSh(['env'], env).ok;
  const up = kubeSh(['up', ...addOns], env);
  if (!up.ok || !up.exports['KUBECONFIG']) {
    log(
      'no cluster answers (KUBECONFIG) and the project cluster could not start: install it as root ' +
        `with \`tools/infra/kube.sh install ${addOns.join(' ')}\`, or point KUBECONFIG at a cluster`,
    );
    if (!running) kubeSh(['down'], env);
    process.exit(1);
  }
  started = !running;
  env['KUBECONFIG'] = up.exports['KUBECONFIG'];
  if (running) log('using the project cluster that runs already (it is left running)');
}

let code = 1;
if (options.includes('--crds') && !kubeSh(['crds'], env).ok)
  log('could not apply the CRDs (see above)');
else code = await runInheriting(command, args, env, log);

if (started && !kubeSh(['down'], env).ok) code = code || 1;
process.exit(code);
