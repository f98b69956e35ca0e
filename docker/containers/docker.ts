// Small helpers over the docker CLI for the container suite: every call is bounded in time and a
// failure carries the command and its output.
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `docker ...` from the repository root; resolves with its exit code and output. */
export function run(
  args: string[],
  { env = process.env, timeoutMs = 120_000 }: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      'docker',
      args,
      { cwd: ROOT, env, timeout: timeoutMs, maxBuffer: 64 * 2 ** 20, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr: err && err.killed ? `${stderr}\n(timed out)` : stderr });
      },
    );
  });
}

/** `docker ...` that must succeed; resolves with its trimmed stdout. */
export async function docker(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<string> {
  const result = await run(args, options);
  if (result.code !== 0) {
    throw new Error(
      `docker ${args.join(' ')} exited ${result.code}:\n${result.stderr}${result.stdout}`,
    );
  }
  return result.stdout.trim();
}

/**
 * `docker ...` with its output streamed to this process's (the long steps: compose builds and the
 * load generator), and kept for the assertions.
 */
export function stream(
  args: string[],
  { env = process.env, timeoutMs = 600_000 }: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn('docker', args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      process.stdout.write(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      process.stderr.write(chunk);
    });
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

export { until } from '@flotilla/testing';

/** The Node.js base image the app images are built on: NODE_IMAGE, else the Dockerfile's default. */
export function nodeBaseImage(env: NodeJS.ProcessEnv = process.env): string {
  const dockerfile = readFileSync(new URL('../Dockerfile', import.meta.url), 'utf8');
  const pinned = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1];
  const image = env['NODE_IMAGE']?.trim() || pinned;
  if (!image) throw new Error('docker/Dockerfile has no ARG NODE_IMAGE default');
  return image;
}

/** Bytes in MiB, for the printed figures. */
export const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
