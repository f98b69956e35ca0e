import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';
import { runLoad, type Report } from '@flotilla/loadgen';
import { localSystemStore, type SystemState } from '@flotilla/scripts/local-system';
import { waitFor } from '@flotilla/testing';
import { stringify } from 'yaml';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = join(ROOT, 'tools/deploy-kit/src/cli.ts');

/** Environments on the local platform with short pauses, and a dev -> staging -> production chain. */
function environments(): Record<string, unknown> {
  const base = {
    platform: 'local',
    strategy: {
      type: 'canary',
      canary: {
        steps: [
          { weight: 10, pause: '6s' },
          { weight: 50, pause: '4s' },
        ],
      },
      blueGreen: { preview: '4s' },
    },
    // p99 up to 2.5 s: a test machine busy with other suites must not fail a good release.
    analysis: {
      source: 'gateway',
      window: '4s',
      minRequests: 5,
      inconclusiveLimit: 2,
      failureLimit: 0,
      maxP99Seconds: 2.5,
    },
    approval: 'none',
    promoteFrom: null,
    readyTimeout: '60s',
    services: { gateway: { strategy: { type: 'rolling' } } },
  };
  return {
    local: { ...base, analysis: { ...base.analysis, window: '6s' } },
    'chain-dev': { ...base, strategy: { ...base.strategy, type: 'rolling' } },
    'chain-staging': {
      ...base,
      strategy: { ...base.strategy, type: 'rolling' },
      promoteFrom: 'chain-dev',
    },
    'chain-production': {
      ...base,
      strategy: { ...base.strategy, type: 'rolling' },
      promoteFrom: 'chain-staging',
      approval: 'required',
    },
  };
}

export interface KitResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The whole system as `npm start` runs it (on free ports, with its own FLOTILLA_HOME), and the
 * deploy kit's CLI pointed at it, with test environments on the local platform.
 */
export async function startLocalSystem() {
  const home = await mkdtemp(join(tmpdir(), 'flotilla-deploy-'));
  const envDir = join(home, 'environments');
  await mkdir(envDir);
  for (const [name, env] of Object.entries(environments())) {
    await writeFile(join(envDir, `${name}.yaml`), stringify(env));
  }
  const env = {
    ...process.env,
    FLOTILLA_HOME: home,
    FLOTILLA_ENVIRONMENTS: envDir,
    RATE_LIMIT_CLIENT_PER_MINUTE: '1000000',
    RATE_LIMIT_USER_PER_MINUTE: '1000000',
    LOG_LEVEL: 'warn',
    NX_DAEMON: 'false',
    NX_NO_CLOUD: 'true',
  };
  let output = '';
  const npmStart: ChildProcess = spawn(
    process.execPath,
    [join(ROOT, 'tools/scripts/src/start.ts'), '--free-ports'],
    {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000));
  npmStart.stdout?.on('data', keep);
  npmStart.stderr?.on('data', keep);
  const store = localSystemStore(join(home, 'local'));
  let system: SystemState;
  try {
    system = await waitFor(
      'npm start',
      () => {
        if (npmStart.exitCode !== null) throw new Error(`npm start exited:\n${output}`);
        const state = store.readSystem();
        return state ? Promise.resolve(state) : Promise.reject(new Error('not up yet'));
      },
      { timeoutMs: 120_000, intervalMs: 250 },
    );
  } catch (err) {
    npmStart.kill('SIGINT');
    throw new Error(`the system did not start:\n${output}`, { cause: err });
  }

  const admin = async (path: string) => {
    const gateway = store.readService('gateway')?.instances.at(-1);
    const res = await fetch(`http://127.0.0.1:${gateway?.adminPort ?? 0}${path}`, {
      headers: { authorization: `Bearer ${system.adminToken}` },
    });
    return (await res.json()) as Record<string, { version: string; url: string; weight: number }[]>;
  };

  return {
    home,
    store,
    system,
    gateway: system.gateway.url,
    output: () => output,
    /** Runs the deploy kit's CLI to the end. */
    async kit(args: string[], extraEnv: Record<string, string> = {}): Promise<KitResult> {
      const child = spawn(process.execPath, [CLI, ...args], {
        cwd: ROOT,
        env: { ...env, ...extraEnv },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const [code] = (await once(child, 'exit')) as [number | null];
      // What a person reads: colours (Nx forces them when its own output is a terminal) stripped.
      return {
        code: code ?? 128,
        stdout: stripVTControlCharacters(stdout),
        stderr: stripVTControlCharacters(stderr),
      };
    },
    /** Starts the deploy kit's CLI and hands back the process, to stop it halfway. */
    spawnKit(args: string[]): { child: ChildProcess; stdout: () => string } {
      const child = spawn(process.execPath, [CLI, ...args], {
        cwd: ROOT,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr?.on('data', (c: Buffer) => (stdout += c.toString()));
      return { child, stdout: () => stripVTControlCharacters(stdout) };
    },
    /** The purchase flow through the gateway until `stop` is called; resolves with loadgen's report. */
    load(rate = 20): { stop: () => Promise<Report> } {
      const controller = new AbortController();
      const report = runLoad(
        {
          target: system.gateway.url,
          rate,
          durationMs: 600_000,
          mix: { visa: 80, declined: 10, browse: 10 },
          users: 5,
          timeoutMs: 10_000,
          minSuccess: 100,
        },
        { signal: controller.signal },
      );
      return {
        stop: async () => {
          controller.abort();
          return report;
        },
      };
    },
    /** The gateway's traffic table. */
    upstreams: () => admin('/admin/upstreams'),
    /** The gateway's request counts for one version of an upstream. */
    async requestsTo(upstream: string, version: string): Promise<number> {
      const text = await (await fetch(`${system.gateway.url}/metrics`)).text();
      let total = 0;
      for (const line of text.split('\n')) {
        if (
          line.startsWith('gateway_upstream_requests_total{') &&
          line.includes(`upstream="${upstream}"`) &&
          line.includes(`version="${version}"`)
        ) {
          total += Number(line.split(' ').at(-1));
        }
      }
      return total;
    },
    async stop(): Promise<void> {
      if (npmStart.exitCode === null) {
        const exited = once(npmStart, 'exit');
        npmStart.kill('SIGINT');
        await exited;
      }
      if (existsSync(home)) await rm(home, { recursive: true, force: true });
    },
  };
}

export type LocalSystem = Awaited<ReturnType<typeof startLocalSystem>>;
