import { spawn, type ChildProcess } from 'node:child_process';
import {
  accessSync,
  chownSync,
  constants,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import pg from 'pg';
import { Redis } from 'ioredis';
import { freePort } from './free-port.ts';
import { waitFor } from './wait-for.ts';

/** A server process started from the binaries on this machine, with its own temp dir. */
export interface LocalServer {
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * A local server whose process can be taken away and brought back on the same port and data, as
 * an outage: for tests of what services do while their database or cache is gone.
 */
export interface RestartableServer extends LocalServer {
  /**
   * Ends the process and keeps its data. PostgreSQL gets an immediate shutdown (SIGQUIT: no
   * checkpoint, clients cut off, crash recovery from the WAL on the next start), Redis SIGKILL.
   */
  halt(): Promise<void>;
  /** Starts it again on the same port and data; resolves once it answers. */
  resume(): Promise<void>;
  /** Whether its process runs (false after {@link halt}, or when it died). */
  readonly running: boolean;
}

interface RunAs {
  uid: number;
  gid: number;
  name: string;
}

const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();

// Last resort when the test process dies without running its teardown: no server or temp dir
// outlives it. 'exit' handlers must be synchronous, hence SIGKILL and rmSync.
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

function which(binary: string, extraDirs: string[] = []): string | undefined {
  const dirs = [...extraDirs, ...(process.env['PATH'] ?? '').split(delimiter)];
  for (const dir of dirs) {
    const candidate = join(dir, binary);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** Directories holding PostgreSQL server binaries, newest major version first. */
function postgresBinDirs(): string[] {
  const fromEnv = process.env['PG_BIN_DIR'];
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => /^\d+$/.test(v))
        .sort((a, b) => Number(b) - Number(a))
        .map((v) => join(root, v, 'bin'))
    : [];
  return [...(fromEnv ? [fromEnv] : []), ...versions];
}

/** Finds the binaries the local fallback needs, or says what is missing. */
export function findLocalBinaries(): { initdb?: string; postgres?: string; redisServer?: string } {
  const pgDirs = postgresBinDirs();
  const initdb = which('initdb', pgDirs);
  return {
    ...(initdb ? { initdb } : {}),
    ...(which('postgres', pgDirs) ? { postgres: which('postgres', pgDirs) } : {}),
    ...(which('redis-server') ? { redisServer: which('redis-server') } : {}),
  };
}

/** PostgreSQL refuses to run as root, so as root the servers run as an unprivileged user. */
function unprivilegedUser(): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const passwd = readFileSync('/etc/passwd', 'utf8').split('\n');
  for (const name of ['postgres', 'nobody']) {
    const line = passwd.find((l) => l.startsWith(`${name}:`));
    if (!line) continue;
    const [, , uid, gid] = line.split(':');
    return { name, uid: Number(uid), gid: Number(gid) };
  }
  throw new Error(
    'running as root and neither a "postgres" nor a "nobody" user exists to run servers as',
  );
}

async function makeTempDir(prefix: string, runAs: RunAs | undefined): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  tempDirs.add(dir);
  if (runAs) chownSync(dir, runAs.uid, runAs.gid);
  return dir;
}

function start(
  command: string,
  args: string[],
  cwd: string,
  runAs: RunAs | undefined,
): ChildProcess {
  const child = spawn(command, args, {
    cwd,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', LANG: 'C', TZ: 'UTC' },
    ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}),
  });
  children.add(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  child.once('exit', () => children.delete(child));
  Object.defineProperty(child, 'recentStderr', { get: () => stderr });
  return child;
}

function run(
  command: string,
  args: string[],
  cwd: string,
  runAs: RunAs | undefined,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = start(command, args, cwd, runAs);
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`${command} exited with ${code}: ${stderrOf(child)}`));
    });
  });
}

function stderrOf(child: ChildProcess): string {
  return (child as ChildProcess & { recentStderr?: string }).recentStderr ?? '';
}

/** Whether a child process has neither exited nor been killed. */
const runs = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

async function stopChild(
  child: ChildProcess,
  signal: NodeJS.Signals,
  timeoutMs = 10_000,
): Promise<void> {
  if (!runs(child)) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(timer);
}

function failIfExited(child: ChildProcess, name: string): void {
  if (!runs(child)) {
    throw new Error(`${name} exited during start: ${stderrOf(child)}`);
  }
}

/**
 * Starts a throwaway PostgreSQL server on a free loopback port; data lives in a temp dir. Without
 * `durable`, commits are not waited for (synchronous_commit off), which is fastest for tests; with
 * it, a commit is in the WAL before it is acknowledged, so a crash loses no committed row.
 */
export async function startLocalPostgres(
  options: { durable?: boolean } = {},
): Promise<RestartableServer> {
  const { initdb, postgres } = findLocalBinaries();
  if (!initdb || !postgres) {
    throw new Error(
      'PostgreSQL server binaries (initdb, postgres) were not found; install PostgreSQL (e.g. apt-get install postgresql) or set PG_BIN_DIR or DATABASE_URL',
    );
  }
  const runAs = unprivilegedUser();
  const dir = await makeTempDir('flotilla-pg-', runAs);
  const dataDir = join(dir, 'data');
  await run(
    initdb,
    ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'],
    dir,
    runAs,
  );
  const port = await freePort();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const launch = async () => {
    const child = start(
      postgres,
      [
        '-D',
        dataDir,
        '-p',
        String(port),
        '-k',
        dir,
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'max_connections=300',
        // Throwaway data: durability settings off for speed (a process crash loses nothing
        // written; only an OS crash could).
        '-c',
        'fsync=off',
        '-c',
        'full_page_writes=off',
        ...(options.durable ? [] : ['-c', 'synchronous_commit=off']),
      ],
      dir,
      runAs,
    );
    await waitFor('local PostgreSQL', async () => {
      failIfExited(child, 'postgres');
      const client = new pg.Client({ connectionString: url });
      try {
        await client.connect();
        await client.query('SELECT 1');
      } finally {
        await client.end().catch(() => undefined);
      }
    });
    return child;
  };
  let child = await launch();
  return {
    url,
    async halt() {
      await stopChild(child, 'SIGQUIT');
    },
    async resume() {
      child = await launch();
    },
    get running() {
      return runs(child);
    },
    async stop() {
      // SIGINT is PostgreSQL's "fast" shutdown: it does not wait for clients to disconnect.
      await stopChild(child, 'SIGINT');
      rmSync(dir, { recursive: true, force: true });
      tempDirs.delete(dir);
    },
  };
}

/** Starts a throwaway Redis server on a free loopback port, without persistence. */
export async function startLocalRedis(): Promise<RestartableServer> {
  const { redisServer } = findLocalBinaries();
  if (!redisServer) {
    throw new Error(
      'redis-server was not found; install Redis (e.g. apt-get install redis-server) or set REDIS_URL',
    );
  }
  const runAs = unprivilegedUser();
  const dir = await makeTempDir('flotilla-redis-', runAs);
  mkdirSync(join(dir, 'data'));
  if (runAs) chownSync(join(dir, 'data'), runAs.uid, runAs.gid);
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const launch = async () => {
    const child = start(
      redisServer,
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        join(dir, 'data'),
      ],
      dir,
      runAs,
    );
    await waitFor('local Redis', async () => {
      failIfExited(child, 'redis-server');
      const client = new Redis(url, {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      client.on('error', () => undefined); // failures surface through connect() below
      try {
        await client.connect();
        await client.ping();
      } finally {
        client.disconnect();
      }
    });
    return child;
  };
  let child = await launch();
  return {
    url,
    async halt() {
      await stopChild(child, 'SIGKILL');
    },
    async resume() {
      child = await launch();
    },
    get running() {
      return runs(child);
    },
    async stop() {
      await stopChild(child, 'SIGTERM');
      rmSync(dir, { recursive: true, force: true });
      tempDirs.delete(dir);
    },
  };
}
