// What a new user does with the README: a clone of this repository, the README's commands typed
// into a shell one by one (each its own process, through npx nx as written), and the system
// looked at after each command has exited. The harness of the user-path suite.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';
import { runLoad, type Report } from '@flotilla/loadgen';
import { localSystemStore, type SystemState } from '@flotilla/scripts/local-system';
import { linkWorkspaceModules, waitFor } from '@flotilla/testing';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Where the README's system answers: `npm start`'s default gateway port. */
export const GATEWAY = 'http://127.0.0.1:8080';

/**
 * The commands of a fenced block of the README, marked by `<!-- user-path: <name> -->` on the line
 * before it: each line without its comment.
 */
export async function readmeCommands(name: string): Promise<string[]> {
  const text = await readFile(join(ROOT, 'README.md'), 'utf8');
  const marker = `<!-- user-path: ${name} -->`;
  const at = text.indexOf(marker);
  if (at < 0) throw new Error(`README.md has no block marked ${marker}`);
  const block = /```sh\n([\s\S]*?)```/.exec(text.slice(at))?.[1] ?? '';
  return block
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter(Boolean);
}

export interface Ran {
  code: number;
  signal: NodeJS.Signals | null;
  output: string;
}

/** A command typed into a shell in the clone: its own process group, as a terminal runs it. */
export interface Typed {
  child: ChildProcess;
  output: () => string;
  exited: Promise<Ran>;
  /** Sends a signal to the command's whole process group (Ctrl-C sends SIGINT to it). */
  signal: (signal: NodeJS.Signals) => void;
}

/** A clone of this repository's HEAD with the workspace's node_modules, to commit in freely. */
export async function cloneWorkspace() {
  const dir = await mkdtemp(join(tmpdir(), 'flotilla-user-path-'));
  execFileSync('git', ['clone', '--quiet', '--no-hardlinks', ROOT, dir]);
  await linkWorkspaceModules(ROOT, dir);
  // A person's shell: no FLOTILLA_* of a test (the clone's own .flotilla), an identity for commits.
  const env: Record<string, string | undefined> = {
    ...process.env,
    GIT_AUTHOR_NAME: 'Ada',
    GIT_AUTHOR_EMAIL: 'ada@example.com',
    GIT_COMMITTER_NAME: 'Ada',
    GIT_COMMITTER_EMAIL: 'ada@example.com',
    FORCE_COLOR: '0',
  };
  // Its own PostgreSQL and Redis, as on a fresh machine: no server shared with other suites (whose
  // gateways would share its rate-limit buckets).
  for (const key of ['FLOTILLA_HOME', 'FLOTILLA_ENVIRONMENTS', 'DATABASE_URL', 'REDIS_URL'])
    delete env[key];
  // Nor the task environment of an Nx that runs this suite: its invocation root would make every
  // `npx nx` here a nested task of it (and a killed deploy's task would then look recursive).
  for (const key of Object.keys(env))
    if (key.startsWith('NX_') && key !== 'NX_DAEMON' && key !== 'NX_NO_CLOUD') delete env[key];
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd: dir, env, encoding: 'utf8' }).trim();

  const type = (command: string): Typed => {
    const child = spawn('bash', ['-c', command], {
      cwd: dir,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-200_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const exited = once(child, 'exit').then(([code, signal]) => ({
      code: (code as number | null) ?? 128,
      signal: signal as NodeJS.Signals | null,
      output: stripVTControlCharacters(output),
    }));
    return {
      child,
      output: () => stripVTControlCharacters(output),
      exited,
      signal: (signal) => {
        try {
          process.kill(-(child.pid ?? 0), signal);
        } catch {
          // the group is gone already
        }
      },
    };
  };

  return {
    dir,
    git,
    type,
    /** Runs a command to its end (bounded: a command that hangs fails the test, not CI). */
    async run(command: string, timeoutMs = 8 * 60_000): Promise<Ran> {
      const typed = type(command);
      const timer = setTimeout(() => typed.signal('SIGKILL'), timeoutMs);
      try {
        const ran = await typed.exited;
        if (ran.signal === 'SIGKILL' && timeoutMs)
          ran.output += `\n(the test killed it after ${timeoutMs} ms)`;
        return ran;
      } finally {
        clearTimeout(timer);
      }
    },
    /** Changes a file of the clone and commits it, as a developer does. */
    async commit(file: string, change: (text: string) => string, message: string) {
      const path = join(dir, file);
      const before = await readFile(path, 'utf8');
      const after = change(before);
      if (after === before) throw new Error(`the change to ${file} changed nothing`);
      await writeFile(path, after);
      git('commit', '--quiet', '-am', message);
      return git('rev-parse', '--short=12', 'HEAD');
    },
    store: () => localSystemStore(join(dir, '.flotilla', 'local')),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

export type Clone = Awaited<ReturnType<typeof cloneWorkspace>>;

/** `npm start` as typed in terminal 1, up once its state says so. */
export async function startSystem(clone: Clone, command: string) {
  const typed = clone.type(command);
  const system = await waitFor(
    'npm start',
    () => {
      if (typed.child.exitCode !== null)
        throw new Error(`npm start exited:\n${typed.output().slice(-3000)}`);
      const state = clone.store().readSystem();
      // Up once it says so: its state is written before the summary it prints.
      return state && typed.output().includes('Press Ctrl-C to stop.')
        ? Promise.resolve(state)
        : Promise.reject(new Error('not up yet'));
    },
    { timeoutMs: 180_000, intervalMs: 250 },
  );
  return {
    typed,
    system,
    async stop() {
      if (typed.child.exitCode === null) {
        typed.signal('SIGINT');
        await typed.exited;
      }
    },
  };
}

/** The traffic during a command and for 30 s after it has exited, as the suite measures it. */
export interface Watched {
  ran: Ran;
  during: Report;
  after: Report;
}

const MIX = { visa: 80, declined: 10, browse: 10 } as const;

/** A purchase load through the gateway from one client until `stop`; its report. */
export function startLoad(rate: number): { stop: () => Promise<Report> } {
  const controller = new AbortController();
  const report = runLoad(
    { target: GATEWAY, rate, durationMs: 60 * 60_000, mix: MIX, users: 3, minSuccess: 0 },
    { signal: controller.signal },
  );
  report.catch(() => undefined);
  return {
    stop: () => {
      controller.abort();
      return report;
    },
  };
}

/** The same load for a fixed stretch: what the system does after a command has exited. */
export function loadFor(ms: number, rate: number): Promise<Report> {
  return runLoad({ target: GATEWAY, rate, durationMs: ms, mix: MIX, users: 3, minSuccess: 0 });
}

/**
 * Runs a command under a steady purchase load through the gateway (`rate` a second, from one
 * client), then keeps the load on for 30 s after the command has exited.
 */
export async function underLoad(
  clone: Clone,
  command: string,
  { rate = 5, afterMs = 30_000 }: { rate?: number; afterMs?: number } = {},
): Promise<Watched> {
  const load = startLoad(rate);
  const ran = await clone.run(command);
  const during = await load.stop();
  return { ran, during, after: await loadFor(afterMs, rate) };
}

/**
 * Starts a command under load and sends `signal` to its process group once its output matches
 * `when` (a deploy's first analysis); then the load for 30 s after it has exited.
 */
export async function stoppedUnderLoad(
  clone: Clone,
  command: string,
  when: RegExp,
  signal: NodeJS.Signals,
  rate = 5,
): Promise<Watched> {
  const load = startLoad(rate);
  const typed = clone.type(command);
  await waitFor(
    `${when.source} in the output of ${command}`,
    () => {
      if (when.test(typed.output())) return Promise.resolve();
      if (typed.child.exitCode !== null)
        return Promise.reject(new Error(`it ended first:\n${typed.output()}`));
      return Promise.reject(new Error('not yet'));
    },
    { timeoutMs: 180_000, intervalMs: 200 },
  );
  typed.signal(signal);
  const ran = await typed.exited;
  const during = await load.stop();
  return { ran, during, after: await loadFor(30_000, rate) };
}

/** `sent / failed` of a load report, and its failures by reason. */
export function tally(report: Report): string {
  const reasons = Object.entries(report.failures)
    .map(([reason, count]) => `${reason} x ${count}`)
    .join(', ');
  return `${report.requests.completed} sent, ${report.requests.failed} failed${reasons ? ` (${reasons})` : ''}`;
}

/** One version as `deploy-status` prints it. */
export interface StatusLine {
  label: string;
  version: string;
  weight: number;
  alive: boolean;
  ready: boolean;
}

/** The "runs now" lines of `deploy-status`'s output. */
export function parseStatus(output: string): StatusLine[] {
  const lines: StatusLine[] = [];
  let inRuns = false;
  for (const line of output.split('\n')) {
    if (/^\s{2}runs now/.test(line)) {
      inRuns = true;
      continue;
    }
    if (inRuns && /^\s{2}\S/.test(line)) break;
    const match = /^\s{4}(\S+)\s+(\S+)\s+(\d+)% of traffic\s*(.*)$/.exec(line);
    if (inRuns && match) {
      const health = match[4] ?? '';
      lines.push({
        label: match[1]!,
        version: match[2]!,
        weight: Number(match[3]),
        alive: health.startsWith('alive'),
        ready: health === 'alive, ready',
      });
    }
  }
  return lines;
}

/** The gateway's traffic table (its admin API, with the system's token). */
export async function upstreams(
  clone: Clone,
  system: SystemState,
): Promise<Record<string, { version: string; url: string; weight: number }[]>> {
  const gateway = clone
    .store()
    .readService('gateway')
    ?.instances.find((i) => !i.exit);
  const res = await fetch(`http://127.0.0.1:${gateway?.adminPort ?? 0}/admin/upstreams`, {
    headers: { authorization: `Bearer ${system.adminToken}` },
  });
  if (!res.ok) throw new Error(`/admin/upstreams answered ${res.status}`);
  return (await res.json()) as Record<string, { version: string; url: string; weight: number }[]>;
}

/** Whether a URL's /ready answers 200. */
export async function answersReady(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/ready`, { signal: AbortSignal.timeout(3000) })).ok;
  } catch {
    return false;
  }
}
