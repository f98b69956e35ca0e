// The state of the system `npm start` runs on this machine, kept in files so that other commands
// (the deploy kit's local platform) can join it: where each service listens, which processes serve
// it, the environment it was started with, the admin token. Written by `npm start` alone (its
// supervisor starts and stops the processes a release asks for), removed when `npm start` stops,
// and read back through a schema and a format version.
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
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

const WORKSPACE = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * Where Flotilla keeps what it knows on this machine: `FLOTILLA_HOME`, else `.flotilla` in the
 * workspace (git-ignored). The running system's state is its `local/` folder. The workspace is the
 * one a command runs in (Nx's root), which is this checkout's unless a caller says otherwise.
 */
export function flotillaHome(
  env: Readonly<Record<string, string | undefined>> = process.env,
  workspace: string = WORKSPACE,
): string {
  const dir = env['FLOTILLA_HOME']?.trim();
  return dir ? resolve(dir) : join(workspace, '.flotilla');
}

/** The running system's state folder: `<FLOTILLA_HOME>/local`. */
export function stateDir(
  env: Readonly<Record<string, string | undefined>> = process.env,
  workspace: string = WORKSPACE,
): string {
  return join(flotillaHome(env, workspace), 'local');
}

const instanceSchema = z.object({
  /** The version label the gateway routes by (`v1` for what `npm start` started). */
  label: z.string(),
  /** The artefact version it runs: a commit id, or `workspace` for the sources `npm start` ran. */
  version: z.string(),
  pid: z.number().int(),
  port: z.number().int(),
  adminPort: z.number().int(),
  /** Its working directory, which tells it from another process that reused its pid. */
  dir: z.string(),
  /** Node's arguments to start it again the same way (in `dir`, with the service's environment). */
  args: z.array(z.string()),
  startedAt: z.string(),
  startedBy: z.string(),
  /** Where its output goes. */
  log: z.string().optional(),
  /** Set when it exited on its own: it is dead, and kept so that what runs is told truly. */
  exit: z
    .object({ code: z.number().nullable(), signal: z.string().nullable(), at: z.string() })
    .optional(),
});

const serviceStateSchema = z.object({
  name: z.string(),
  /** The environment every instance starts with, before its own PORT, ADMIN_PORT and version. */
  env: z.record(z.string(), z.string()),
  instances: z.array(instanceSchema),
});

const systemStateSchema = z.object({
  /** npm start's process: the system is up while it runs. */
  pid: z.number().int(),
  startedAt: z.string(),
  workspace: z.string(),
  adminToken: z.string(),
  infrastructure: z.object({ databaseUrl: z.string(), redisUrl: z.string() }),
  gateway: z.object({ url: z.string(), meshUrl: z.string().optional() }),
  /** The supervisor's API: the deploy kit asks it to start and stop versions. */
  supervisor: z.object({ url: z.string() }),
});

/** One process serving a service. */
export type Instance = z.infer<typeof instanceSchema>;
export type ServiceState = z.infer<typeof serviceStateSchema>;
export type SystemState = z.infer<typeof systemStateSchema>;

/** The version of the state files' format; a file of another version is refused with a message. */
const STATE_VERSION = 2;

function writeJson(file: string, value: object): void {
  const temp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(temp, `${JSON.stringify({ stateVersion: STATE_VERSION, ...value }, null, 2)}\n`, {
    mode: 0o600,
  });
  renameSync(temp, file);
}

function readJson<T>(file: string, schema: z.ZodType<T>): T | undefined {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`${file} is not readable state: ${(err as Error).message}`, { cause: err });
  }
  const version = (data as { stateVersion?: unknown } | null)?.stateVersion;
  if (version !== STATE_VERSION) {
    throw new Error(
      `${file} was written by another version of Flotilla (state version ${typeof version === 'number' ? version : 1}, this one reads ${STATE_VERSION}): stop the system it belongs to with that version, or remove ${dirname(file)} if nothing runs`,
    );
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    throw new Error(
      `${file} is not valid state: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  return parsed.data;
}

/** Reads and writes the state files under one directory. */
export function localSystemStore(dir: string = stateDir()) {
  const servicesDir = join(dir, 'services');
  const serviceFile = (name: string) => join(servicesDir, `${name}.json`);
  return {
    dir,
    logsDir: join(dir, 'logs'),
    readSystem: () => readJson(join(dir, 'system.json'), systemStateSchema),
    writeSystem(state: SystemState): void {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      writeJson(join(dir, 'system.json'), state);
    },
    readService: (name: string) => readJson(serviceFile(name), serviceStateSchema),
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
      return names.flatMap((file) => readJson(join(servicesDir, file), serviceStateSchema) ?? []);
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
