// `npm start`: the whole system on this machine. PostgreSQL and Redis come from the infrastructure
// resolver (DATABASE_URL/REDIS_URL, else Docker, else local binaries); each service gets its own
// database, applies its migrations and starts as its own process. The gateway starts first: its
// mesh listener is how the services reach each other, so that a release's traffic weights apply to
// their calls too. The system's state (ports, pids, admin token, each service's environment) is
// kept in files (local-system.ts) for the deploy kit's local platform. Ctrl-C stops everything,
// the processes a release started included.
//   node tools/scripts/src/start.ts [--free-ports] [service ...]
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  ensureDatabase,
  freePort,
  resolveInfrastructure,
  waitFor,
  type Infrastructure,
} from '@flotilla/testing';
import { isInstanceAlive, localSystemStore, type Instance } from './local-system.ts';
import { MESH_PORT, SERVICES, wiring, type ServiceDefinition } from './services.ts';
import { formatLogLine } from './log-format.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** A service from its sources, its tracing loaded first. */
const SOURCE_ARGS = ['--import', './src/instrumentation.ts', 'src/main.ts'];
const say = (message: string) => process.stdout.write(`${message}\n`);
const fail = (message: string, code: number): never => {
  process.stderr.write(`npm start: ${message}\n`);
  process.exit(code);
};

let cli;
try {
  cli = parseArgs({
    allowPositionals: true,
    options: { 'free-ports': { type: 'boolean', default: false } },
  });
} catch (err) {
  fail(`${(err as Error).message}\nusage: start.ts [--free-ports] [service ...]`, 2);
}
const requested = cli?.positionals ?? [];
const unknown = requested.filter((name) => !SERVICES.some((s) => s.name === name));
if (unknown.length > 0) {
  fail(
    `unknown service(s): ${unknown.join(', ')}; known: ${SERVICES.map((s) => s.name).join(', ')}`,
    2,
  );
}
const selected =
  requested.length > 0 ? SERVICES.filter((s) => requested.includes(s.name)) : SERVICES;
const withMesh = selected.some((s) => s.name === 'gateway') && selected.length > 1;
// The gateway first when it carries the services' calls; otherwise in dependency order.
const startOrder = withMesh
  ? [
      ...selected.filter((s) => s.name === 'gateway'),
      ...selected.filter((s) => s.name !== 'gateway'),
    ]
  : selected;

const store = localSystemStore();
const previous = store.readSystem();
if (previous && isInstanceAlive({ pid: previous.pid, dir: previous.workspace })) {
  fail(
    `a system is already running (pid ${previous.pid}, state in ${store.dir}); stop it first`,
    1,
  );
}
rmSync(store.dir, { recursive: true, force: true });

const children = new Map<number, { name: string; child: ChildProcess }>();
let infra: Infrastructure | undefined;
let stopping = false;

/** Stops one instance with SIGTERM (a drain), then SIGKILL if it outlives the grace period. */
async function stopInstance(name: string, instance: Instance): Promise<void> {
  if (!isInstanceAlive(instance)) return;
  const child = children.get(instance.pid)?.child;
  const exited = child
    ? new Promise((resolve) => child.once('exit', resolve))
    : (async () => {
        while (isInstanceAlive(instance)) await sleep(100);
      })();
  process.kill(instance.pid, 'SIGTERM');
  const graceful = await Promise.race([exited.then(() => true), sleep(30_000).then(() => false)]);
  if (!graceful) process.kill(instance.pid, 'SIGKILL');
  say(`  ${name} ${instance.label} stopped`);
}

async function stopAll(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    say('\nstopping…');
    const instances = store
      .services()
      .flatMap((service) =>
        service.instances.map((instance) => ({ name: service.name, instance })),
      );
    await Promise.all(instances.map(({ name, instance }) => stopInstance(name, instance)));
    await infra?.stop();
    rmSync(store.dir, { recursive: true, force: true });
    say('stopped.');
  }
  process.exit(code);
}
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

function startService(service: ServiceDefinition, env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, SOURCE_ARGS, {
    cwd: `${ROOT}apps/${service.name}`,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on('line', (line) =>
      say(`[${service.name}] ${formatLogLine(line)}`),
    );
  }
  child.once('exit', (code, signal) => {
    if (stopping) return;
    children.delete(child.pid ?? 0);
    // A release retires the processes it replaces: they are no longer in the service's state.
    const listed = store.readService(service.name)?.instances.some((i) => i.pid === child.pid);
    if (!listed) {
      say(`[${service.name}] v1 retired by a release (${signal ?? code})`);
      return;
    }
    say(`[${service.name}] exited (${signal ?? code}); stopping the system`);
    void stopAll(1);
  });
  if (child.pid !== undefined) children.set(child.pid, { name: service.name, child });
  return child;
}

try {
  say('Flotilla: starting the system');
  infra = await resolveInfrastructure({ log: (message) => say(`  ${message}`) });
  say(`  PostgreSQL from ${infra.sources.postgres}, Redis from ${infra.sources.redis}`);

  const free = cli?.values['free-ports'] === true;
  const ports = new Map<string, { port: number; adminPort: number }>();
  for (const service of selected) {
    ports.set(service.name, {
      port: free ? await freePort() : service.port,
      adminPort: free ? await freePort() : service.adminPort,
    });
  }
  const portsOf = (name: string) => ports.get(name) ?? { port: 0, adminPort: 0 };
  const meshUrl = withMesh ? `http://127.0.0.1:${free ? await freePort() : MESH_PORT}` : undefined;
  const adminToken = randomBytes(32).toString('base64url');
  const env = wiring(
    {
      jwtPrivateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' })
        .privateKey.export({ type: 'pkcs8', format: 'pem' })
        .toString(),
      orderServiceSecret: randomBytes(32).toString('base64url'),
      adminToken,
    },
    {
      urls: Object.fromEntries(
        SERVICES.map((s) => [s.name, `http://127.0.0.1:${ports.get(s.name)?.port ?? s.port}`]),
      ),
      ...(meshUrl ? { mesh: meshUrl } : {}),
    },
  );
  for (const service of startOrder) {
    const databaseUrl = service.database
      ? await ensureDatabase(infra.databaseUrl, service.database)
      : undefined;
    const { port, adminPort } = portsOf(service.name);
    say(
      `  starting ${service.name} on :${port}${service.database ? ` (database ${service.database}, migrations on start)` : ''}`,
    );
    const serviceEnv: Record<string, string> = {
      HOST: '127.0.0.1',
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
      REDIS_URL: infra.redisUrl,
      SHUTDOWN_DRAIN_DELAY_MS: '0',
      ...env[service.name],
    };
    const child = startService(service, {
      ...serviceEnv,
      PORT: String(port),
      ADMIN_PORT: String(adminPort),
      ...(databaseUrl ? { MIGRATE_ON_START: 'true' } : {}),
    });
    store.writeService({
      name: service.name,
      env: serviceEnv,
      instances: [
        {
          label: 'v1',
          version: 'workspace',
          pid: child.pid ?? 0,
          port,
          adminPort,
          dir: `${ROOT}apps/${service.name}`,
          args: SOURCE_ARGS,
          startedAt: new Date().toISOString(),
          startedBy: 'npm start',
        },
      ],
    });
    await waitFor(
      `${service.name} /ready`,
      async () => {
        const res = await fetch(`http://127.0.0.1:${port}/ready`);
        if (!res.ok) throw new Error(`/ready answered ${res.status}`);
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
  }

  const gateway = selected.some((s) => s.name === 'gateway') ? portsOf('gateway') : undefined;
  store.writeSystem({
    pid: process.pid,
    startedAt: new Date().toISOString(),
    workspace: process.cwd(),
    adminToken,
    infrastructure: { databaseUrl: infra.databaseUrl, redisUrl: infra.redisUrl },
    gateway: {
      url: `http://127.0.0.1:${gateway?.port ?? 0}`,
      meshUrl,
    },
  });

  say('\nFlotilla is up:');
  for (const service of selected) {
    const { port, adminPort } = portsOf(service.name);
    say(
      `  ${service.name.padEnd(16)} http://localhost:${port}   (/health /ready /metrics)  admin http://127.0.0.1:${adminPort}/admin/faults`,
    );
  }
  if (gateway) {
    say(
      `\n  API:        http://localhost:${gateway.port}/api  (OpenAPI: http://localhost:${gateway.port}/api/openapi.json)`,
    );
    say(`  Traffic:    http://127.0.0.1:${gateway.adminPort}/admin/upstreams`);
    if (meshUrl) say(`  Mesh:       ${meshUrl}/<service>/<path>  (service-to-service calls)`);
  }
  say(`  Admin token (every admin API): ${adminToken}`);
  say(`  State:      ${store.dir}  (npx nx run <service>:deploy --env=local joins it)`);
  say('\nPress Ctrl-C to stop.');
} catch (err) {
  process.stderr.write(`\nfailed to start: ${(err as Error).message}\n`);
  await stopAll(1);
}
