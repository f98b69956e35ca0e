// The system's supervisor: the part of `npm start` that owns every service process on this
// machine, as a kubelet owns pods. It starts, drains and stops the versions a release asks for over
// a small HTTP API on loopback (bearer: the system's admin token), so that what a release started
// outlives the command that asked for it: Nx ending its task's process tree, a closed terminal, a
// deploy killed with SIGKILL. It is the only writer of the services' state files.
import { spawn, type ChildProcess } from 'node:child_process';
import { timingSafeEqual, createHash } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import {
  isInstanceAlive,
  type Instance,
  type LocalSystemStore,
  type ServiceState,
} from './local-system.ts';

/** How long a drained process may take before it is killed (a service's own limit is 25 s). */
export const STOP_GRACE_MS = 35_000;

/** What a client asks the supervisor to start. */
export const startRequestSchema = z.strictObject({
  label: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/),
  version: z.string().min(1).max(64),
  dir: z.string().min(1),
  args: z.array(z.string()).min(1),
  port: z.number().int().min(1).max(65_535),
  adminPort: z.number().int().min(1).max(65_535),
  /** Settings of this instance over the service's environment (PORT, SERVICE_VERSION, …). */
  env: z.record(z.string(), z.string()).default({}),
  startedBy: z.string().min(1).max(200),
});
export type StartRequest = z.input<typeof startRequestSchema>;

export interface SupervisorOptions {
  store: LocalSystemStore;
  adminToken: string;
  /** Writes a line to npm start's output. */
  say: (line: string) => void;
  /** Formats one line of a child's output for npm start's output. */
  format: (line: string) => string;
  /** An instance exited on its own (not stopped through the supervisor). */
  onExit?: (service: string, instance: Instance) => void;
}

/** Starts and stops the service processes; every change is written to the state files. */
export function createSupervisor(options: SupervisorOptions) {
  const { store } = options;
  const children = new Map<string, ChildProcess>();
  const stopping = new Set<string>();
  const key = (service: string, label: string) => `${service}/${label}`;

  const serviceOf = (name: string): ServiceState => {
    const state = store.readService(name);
    if (!state) throw new HttpError(404, `${name} is not part of the running system`);
    return state;
  };
  const update = (name: string, change: (instances: Instance[]) => Instance[]) => {
    const state = serviceOf(name);
    store.writeService({ ...state, instances: change(state.instances) });
  };

  /** Spawns one instance of a service, its output to its log file and to npm start's output. */
  const start = (name: string, input: StartRequest): Instance => {
    const request = startRequestSchema.parse(input);
    const state = serviceOf(name);
    const running = state.instances.find((i) => i.label === request.label && !i.exit);
    if (running && isInstanceAlive(running)) {
      throw new HttpError(409, `${name} ${request.label} already runs (pid ${running.pid})`);
    }
    mkdirSync(store.logsDir, { recursive: true, mode: 0o700 });
    const log = join(store.logsDir, `${name}-${request.label}.log`);
    const file = createWriteStream(log, { flags: 'a', mode: 0o600 });
    const child = spawn(process.execPath, request.args, {
      cwd: request.dir,
      env: { ...process.env, ...state.env, ...request.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [child.stdout, child.stderr]) {
      stream.pipe(file, { end: false });
      createInterface({ input: stream }).on('line', (line) =>
        options.say(`[${name} ${request.label}] ${options.format(line)}`),
      );
    }
    const instance: Instance = {
      label: request.label,
      version: request.version,
      pid: child.pid ?? 0,
      port: request.port,
      adminPort: request.adminPort,
      dir: request.dir,
      args: request.args,
      startedAt: new Date().toISOString(),
      startedBy: request.startedBy,
      log,
    };
    const id = key(name, request.label);
    children.set(id, child);
    child.once('exit', (code, signal) => {
      file.end();
      if (children.get(id) === child) children.delete(id);
      if (stopping.has(id)) return;
      // Exited on its own: kept in the state as dead, so that deploy-status and the next release see it.
      const exit = { code, signal, at: new Date().toISOString() };
      let dead: Instance | undefined;
      try {
        update(name, (instances) =>
          instances.map((i) => (i.pid === instance.pid ? (dead = { ...i, exit }) : i)),
        );
      } catch {
        return; // the system is stopping: its state is gone
      }
      if (dead) options.onExit?.(name, dead);
    });
    update(name, (instances) => [...instances.filter((i) => i.label !== request.label), instance]);
    return instance;
  };

  /** Takes an instance out of the state, drains it (SIGTERM) and kills it after the grace period. */
  const stop = async (name: string, label: string): Promise<Instance | undefined> => {
    const instance = serviceOf(name).instances.find((i) => i.label === label);
    if (!instance) return undefined;
    const id = key(name, label);
    stopping.add(id);
    try {
      // Out of the state first: whoever reads it next no longer counts this instance.
      update(name, (instances) => instances.filter((i) => i.label !== label));
      await stopProcess(instance, children.get(id));
    } finally {
      stopping.delete(id);
    }
    return instance;
  };

  /** Stops every instance of every service (npm start stopping). */
  const stopAll = async (): Promise<void> => {
    const all = store
      .services()
      .flatMap((s) => s.instances.map((instance) => ({ name: s.name, instance })));
    for (const { name, instance } of all) stopping.add(key(name, instance.label));
    await Promise.all(
      all.map(async ({ name, instance }) => {
        await stopProcess(instance, children.get(key(name, instance.label)));
        options.say(`  ${name} ${instance.label} stopped`);
      }),
    );
  };

  const authorized = (req: IncomingMessage) => {
    const given = createHash('sha256')
      .update(req.headers.authorization ?? '')
      .digest();
    const expected = createHash('sha256').update(`Bearer ${options.adminToken}`).digest();
    return timingSafeEqual(given, expected);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://supervisor');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (!authorized(req)) throw new HttpError(401, 'the admin token is required');
    if (parts[0] !== 'v1' || parts[1] !== 'services') throw new HttpError(404, 'no such route');
    const [, , service, what, label] = parts;
    if (req.method === 'GET' && !service) {
      return reply(res, 200, store.services().map(withLiveness));
    }
    if (!service || what !== 'instances') throw new HttpError(404, 'no such route');
    if (req.method === 'GET' && !label) return reply(res, 200, withLiveness(serviceOf(service)));
    if (req.method === 'POST' && !label) {
      const parsed = startRequestSchema.safeParse(await jsonBody(req));
      if (!parsed.success) {
        throw new HttpError(
          400,
          parsed.error.issues
            .map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`)
            .join('; '),
        );
      }
      return reply(res, 201, start(service, parsed.data));
    }
    if (req.method === 'DELETE' && label) {
      const stopped = await stop(service, label);
      if (!stopped) throw new HttpError(404, `${service} has no instance ${label}`);
      return reply(res, 200, stopped);
    }
    throw new HttpError(405, `${req.method ?? ''} is not allowed here`);
  };

  /** Listens on a free loopback port; resolves with the API's base URL. */
  const listen = async (): Promise<{ url: string; server: Server }> => {
    const server = createServer((req, res) => {
      handle(req, res).catch((err: unknown) => {
        const status = err instanceof HttpError ? err.status : 500;
        reply(res, status, { status, detail: (err as Error).message });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
  };

  return { start, stop, stopAll, listen };
}

export type Supervisor = ReturnType<typeof createSupervisor>;

/** A service's state with each instance's liveness as the supervisor sees it now. */
function withLiveness(state: ServiceState) {
  return {
    name: state.name,
    instances: state.instances.map((i) => ({ ...i, alive: !i.exit && isInstanceAlive(i) })),
  };
}

async function stopProcess(instance: Instance, child: ChildProcess | undefined): Promise<void> {
  if (!isInstanceAlive(instance)) return;
  const exited = child
    ? new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) resolve(undefined);
        else child.once('exit', resolve);
      })
    : (async () => {
        while (isInstanceAlive(instance)) await sleep(100);
      })();
  process.kill(instance.pid, 'SIGTERM');
  const grace = new AbortController();
  const graceful = await Promise.race([
    exited.then(() => true),
    sleep(STOP_GRACE_MS, undefined, { signal: grace.signal }).then(
      () => false,
      () => true,
    ),
  ]);
  grace.abort();
  if (!graceful && isInstanceAlive(instance)) process.kill(instance.pid, 'SIGKILL');
}

class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': status >= 400 ? 'application/problem+json' : 'application/json',
  });
  res.end(text);
}

async function jsonBody(req: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of req) {
    text += (chunk as Buffer).toString();
    if (text.length > 1_000_000) throw new HttpError(413, 'the body is over 1 MB');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, 'the body is not JSON');
  }
}
