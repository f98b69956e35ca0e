// Runs a command with a Docker engine, then stops whatever was started for it:
//   node tools/infra/src/with-docker.ts -- nx run docker:containers
// An engine that already answers (DOCKER_HOST, or /var/run/docker.sock) is used as it is. Otherwise
// the project's engine is started (tools/infra/docker.sh up), its base images made or found
// (docker.sh base), and DOCKER_HOST plus the base-image variables (NODE_IMAGE, POSTGRES_IMAGE, ...)
// are passed to the command; `docker.sh down` stops it at the end and fails when the host is not
// as it was before.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { engineAnswers, ownEngineHost, parseExports, runInheriting } from './engine.ts';

const DOCKER_SH = fileURLToPath(new URL('../docker.sh', import.meta.url));

const separator = process.argv.indexOf('--');
const [command, ...args] =
  separator === -1 ? process.argv.slice(2) : process.argv.slice(separator + 1);
if (!command) {
  process.stderr.write('usage: with-docker.ts -- <command> [args...]\n');
  process.exit(2);
}
const log = (message: string) => process.stderr.write(`[docker] ${message}\n`);

/** docker.sh VERB; its exports on stdout, its progress straight to stderr. */
function dockerSh(
  verb: string,
  env: NodeJS.ProcessEnv,
): { ok: boolean; exports: Record<string, string> } {
  const result = spawnSync('bash', [DOCKER_SH, verb], {
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return { ok: result.status === 0, exports: parseExports(result.stdout ?? '') };
}

const env: NodeJS.ProcessEnv = { ...process.env };
let started = false;
if (await engineAnswers(env)) {
  log(`using the engine that answers at ${env['DOCKER_HOST'] ?? 'unix:///var/run/docker.sock'}`);
} else {
  const up = dockerSh('up', env);
  if (!up.ok || !up.exports['DOCKER_HOST']) {
    log(
      'no Docker engine answers (DOCKER_HOST, /var/run/docker.sock) and the project engine could not start: ' +
        'start Docker, or install the project engine as root with `tools/infra/docker.sh install`',
    );
    process.exit(1);
  }
  started = true;
  Object.assign(env, up.exports);
}

let code = 1;
// The project's engine has no image registry: it builds from the base images made here. The
// testcontainers reaper image cannot be pulled either; stopping the engine reaps everything. Its
// ports are published on 127.0.0.1, where testcontainers must look for them (it would take the
// bridge's gateway on a machine that looks like a container, one with /.dockerenv).
if (env['DOCKER_HOST'] === ownEngineHost(env)) {
  const base = dockerSh('base', env);
  if (!base.ok) log('could not make the base images (see above)');
  else {
    Object.assign(env, base.exports, {
      TESTCONTAINERS_RYUK_DISABLED: 'true',
      TESTCONTAINERS_HOST_OVERRIDE: '127.0.0.1',
    });
    code = await runInheriting(command, args, env, log);
  }
} else {
  code = await runInheriting(command, args, env, log);
}

if (started && !dockerSh('down', env).ok) code = code || 1;
process.exit(code);
