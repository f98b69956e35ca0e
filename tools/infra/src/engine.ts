import { execFile, spawn } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where tools/infra/docker.sh keeps everything (`FLOTILLA_DOCKER_CACHE`). */
export function engineCacheDir(env: NodeJS.ProcessEnv): string {
  return (
    env['FLOTILLA_DOCKER_CACHE'] ||
    join(env['XDG_CACHE_HOME'] || join(env['HOME'] || homedir(), '.cache'), 'flotilla-docker')
  );
}

/** The DOCKER_HOST of the engine `docker.sh up` starts. */
export function ownEngineHost(env: NodeJS.ProcessEnv): string {
  return `unix://${join(engineCacheDir(env), 'docker.sock')}`;
}

/**
 * The `export NAME=value` lines a script prints (docker.sh up and base do), as a map. Values are
 * taken as they are: the scripts print no quotes.
 */
export function parseExports(text: string): Record<string, string> {
  const exports: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^export ([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (match) exports[match[1]!] = match[2]!;
  }
  return exports;
}

/** Whether a Docker engine answers `docker version` with this environment, within `timeoutMs`. */
export function engineAnswers(env: NodeJS.ProcessEnv, timeoutMs = 5000): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(
      'docker',
      ['version', '--format', '{{.Server.Version}}'],
      { env, timeout: timeoutMs },
      (err) => resolve(!err),
    );
  });
}

/**
 * Runs a command with the terminal's stdio, passing on Ctrl-C and SIGTERM; resolves with its exit
 * code (128 + 15 when a signal ended it, 127 when it could not start).
 */
export function runInheriting(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  log: (message: string) => void,
): Promise<number> {
  const child = spawn(cmd, args, { stdio: 'inherit', env });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  return new Promise((resolve) => {
    child.on('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? 128 + 15 : 1)));
    child.on('error', (err) => {
      log(`could not run ${cmd}: ${err.message}`);
      resolve(127);
    });
  });
}
