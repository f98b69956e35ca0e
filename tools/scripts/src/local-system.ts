// The state of the system `npm start` runs on this machine, kept in files so that other commands
// (the deploy kit's local platform) can join it: where each service listens, which processes serve
// it, the environment it was started with, the admin token. Written by `npm start`, updated by the
// deploy kit when a release starts or retires a process, removed when `npm start` stops.
//
//   <state dir>/system.json            the system: npm start's pid, admin token, infrastructure
//   <state dir>/services/<name>.json   one service: its environment and its running instances
//   <state dir>/logs/                  output of the processes a release starts
//
// Each file is written whole (temp file + rename) with mode 0600: it holds secrets.
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const WORKSPACE = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * Where Flotilla keeps what it knows on this machine: `FLOTILLA_HOME`, else `.flotilla` in the
 * workspace (git-ignored). The running system's state is its `local/` folder.
 */
export function flotillaHome(
  env: Readonly<Record<string, string | undefined>> = process.env,
): string {
  const dir = env['FLOTILLA_HOME']?.trim();
  return dir ? resolve(dir) : join(WORKSPACE, '.flotilla');
}

/** The running system's state folder: `<FLOTILLA_HOME>/local`. */
export function stateDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return join(flotillaHome(env), 'local');
}

/** One process serving a service. */
export interface Instance {
  /** The version label the gateway routes by (`v1` for what `npm start` started). */
  label: string;
  /** The artefact version it runs: a commit id, or `workspace` for the sources `npm start` ran. */
  version: string;
  pid: number;
  port: number;
  adminPort: number;
  /** Its working directory, which tells it from another process that reused its pid. */
  dir: string;
  /** Node's arguments to start it again the same way (in `dir`, with the service's environment). */
  args: string[];
  startedAt: string;
  startedBy: string;
  /** Where its output goes, for processes a release started. */
  log?: string;
}

export interface ServiceState {
  name: string;
  /** The environment every instance starts with, before its own PORT, ADMIN_PORT and version. */
  env: Record<string, string>;
  instances: Instance[];
}

export interface SystemState {
  /** npm start's process: the system is up while it runs. */
  pid: number;
  startedAt: string;
  workspace: string;
  adminToken: string;
  infrastructure: { databaseUrl: string; redisUrl: string };
  gateway: { url: string; meshUrl: string | undefined };
}

function writeJson(file: string, value: unknown): void {
  const temp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(temp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  renameSync(temp, file);
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`${file} is not readable state: ${(err as Error).message}`, { cause: err });
  }
}

/** Reads and writes the state files under one directory. */
export function localSystemStore(dir: string = stateDir()) {
  const servicesDir = join(dir, 'services');
  const serviceFile = (name: string) => join(servicesDir, `${name}.json`);
  return {
    dir,
    logsDir: join(dir, 'logs'),
    readSystem: () => readJson<SystemState>(join(dir, 'system.json')),
    writeSystem(state: SystemState): void {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      writeJson(join(dir, 'system.json'), state);
    },
    readService: (name: string) => readJson<ServiceState>(serviceFile(name)),
    writeService(state: ServiceState): void {
      mkdirSync(servicesDir, { recursive: true, mode: 0o700 });
      writeJson(serviceFile(state.name), state);
    },
    services(): ServiceState[] {
      let names: string[];
      try {
        names = readdirSync(servicesDir).filter((file) => file.endsWith('.json'));
      } catch {
        return [];
      }
      return names.flatMap((file) => readJson<ServiceState>(join(servicesDir, file)) ?? []);
    },
  };
}

export type LocalSystemStore = ReturnType<typeof localSystemStore>;

/**
 * Whether an instance's process is alive and still the one it started: a pid can be reused, so on
 * Linux its working directory must also be the instance's.
 */
export function isInstanceAlive(instance: Pick<Instance, 'pid' | 'dir'>): boolean {
  try {
    process.kill(instance.pid, 0);
  } catch {
    return false;
  }
  if (!existsSync('/proc/self/cwd')) return true;
  try {
    return resolve(readlinkSync(`/proc/${instance.pid}/cwd`)) === resolve(instance.dir);
  } catch {
    return false;
  }
}
