import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { linkWorkspaceModules } from '@flotilla/testing';

export const root = resolve(import.meta.dirname, '../../..');
export const bin = (name: string) => join(root, 'node_modules/.bin', name);

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  output: string;
}

/**
 * Runs a command without blocking the event loop (servers in the test process keep answering),
 * with a time limit after which it is killed.
 */
export function run(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {},
): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, {
      cwd: options.cwd ?? root,
      env: options.env ?? process.env,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      output += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      output += chunk.toString();
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', fail);
    child.on('close', (status) => {
      clearTimeout(timer);
      const plain = (text: string) => stripVTControlCharacters(text);
      done({ status, stdout: plain(stdout), stderr: plain(stderr), output: plain(output) });
    });
  });
}

/**
 * Environment for a nested run: without the variables of the Nx target, npm script and test runner
 * around this test (NODE_TEST_CONTEXT would make a nested `node --test` skip its files), no colours.
 */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(NX_|npm_|NODE_OPTIONS$|NODE_TEST_CONTEXT$|DATABASE_URL$|REDIS_URL$)/.test(key)) continue;
    env[key] = value;
  }
  return { ...env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', FORCE_COLOR: '0', ...extra };
}

export interface Clone {
  dir: string;
  git(...args: string[]): string;
  remove(): Promise<void>;
}

/**
 * A clone of this repository's HEAD in a temporary directory, with a committer set. With
 * `linkModules`, its node_modules links to the workspace's packages, except the workspace's own
 * (`@flotilla/*`), which link into the clone so that imports resolve to the clone's projects.
 */
export async function cloneRepository(linkModules = false): Promise<Clone> {
  const dir = await mkdtemp(join(tmpdir(), 'flotilla-clone-'));
  execFileSync('git', ['clone', '-q', '--no-hardlinks', root, dir], { stdio: 'ignore' });
  const git = (...args: string[]) =>
    execFileSync('git', args, {
      cwd: dir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
  git('config', 'user.email', 'ci@example.com');
  git('config', 'user.name', 'CI');
  git('config', 'commit.gpgsign', 'false');
  if (linkModules) await linkWorkspaceModules(root, dir);
  return { dir, git, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** A tool .ci/run installs: on PATH, or built into GOPATH/bin. */
export function installedTool(name: string): string {
  try {
    const found = execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
    if (found) return found;
  } catch {
    // not on PATH
  }
  let gopath = join(process.env['HOME'] ?? '', 'go');
  try {
    gopath = execFileSync('go', ['env', 'GOPATH'], { encoding: 'utf8' }).trim() || gopath;
  } catch {
    // no go: the default GOPATH
  }
  const path = join(gopath, 'bin', name);
  if (!existsSync(path)) {
    throw new Error(`${name} is not installed: \`bash .ci/run\` installs it`);
  }
  return path;
}
