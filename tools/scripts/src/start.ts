// `npm start`: the whole system on this machine. PostgreSQL and Redis come from the infrastructure
// resolver (DATABASE_URL/REDIS_URL, else Docker, else local binaries); each service gets its own
// database, applies its migrations and starts as its own process. The gateway starts first: its
// mesh listener is how the services reach each other, so that a release's traffic weights apply to
// their calls too. The system's state (ports, pids, admin token, each service's environment) is
// kept in files (local-system.ts) for the deploy kit's local platform. Every service process is
// owned by this process's supervisor (supervisor.ts), the ones a release asks for included, so a
// release outlives the command that made it. Ctrl-C stops everything.
//   node tools/scripts/src/start.ts [--free-ports] [service ...]
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  ensureDatabase,
  freePort,
  resolveInfrastructure,
  waitFor,
  type Infrastructure,
} from '@flotilla/testing';
import { flotillaHome, isInstanceAlive, localSystemStore, stateDir } from './local-system.ts';
import { MESH_PORT, SERVICES, wiring } from './services.ts';
import { createSupervisor } from './supervisor.ts';
import { formatLogLine } from './log-format.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** A service from its sources, its tracing loaded first. */
const SOURCE_ARGS = ['--import', './src/instrumentation.ts', 'src/main.ts'];
const say = (message: string) => process.stdout.write(`${message}\n`);
// A terminal that closed (or a parent that died) must not crash the supervisor before it has
// stopped what it owns: its output is lost, its work is not.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
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

const store = localSystemStore(stateDir(process.env, ROOT));
let previous;
try {
  previous = store.readSystem();
} catch (err) {
  fail((err as Error).message, 1);
}
if (previous && isInstanceAlive({ pid: previous.pid, dir: previous.workspace })) {
  fail(
    `a system is already running (pid ${previous.pid}, state in ${store.dir}); stop it first`,
    1,
  );
}
rmSync(store.dir, { recursive: true, force: true });

let infra: Infrastructure | undefined;
let stopping = false;
let up = false;
const adminToken = randomBytes(32).toString('base64url');
const supervisor = createSupervisor({
  store,
  adminToken,
  say,
  format: formatLogLine,
  onExit(name, instance) {
    const how = instance.exit?.signal ?? instance.exit?.code;
    if (!up) {
      say(`[${name} ${instance.label}] exited (${how}) while the system was starting`);
      void stopAll(1);
      return;
    }
    // As a cluster does, the system keeps running: what is dead is told, not hidden.
    say(
      `[${name} ${instance.label}] exited (${how}); its output is in ${instance.log ?? 'its log'}. ` +
        `npx nx run ${name}:deploy-status --env=local shows what runs; a rolling release ` +
        `(npx nx run ${name}:deploy --env=local --strategy=rolling) or a restart of npm start brings it back`,
    );
  },
});

async function stopAll(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    say('\nstopping…');
    await supervisor.stopAll();
    await infra?.stop();
    rmSync(store.dir, { recursive: true, force: true });
    say('stopped.');
  }
  process.exit(code);
}
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

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
  const api = await supervisor.listen();
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
    store.writeService({ name: service.name, env: serviceEnv, instances: [] });
    supervisor.start(service.name, {
      label: 'v1',
      version: 'workspace',
      dir: `${ROOT}apps/${service.name}`,
      args: SOURCE_ARGS,
      port,
      adminPort,
      env: {
        PORT: String(port),
        ADMIN_PORT: String(adminPort),
        ...(databaseUrl ? { MIGRATE_ON_START: 'true' } : {}),
      },
      startedBy: 'npm start',
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
      ...(meshUrl ? { meshUrl } : {}),
    },
    supervisor: { url: api.url },
  });
  up = true;

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
  for (const line of releasesNotStarted(selected.map((s) => s.name))) say(line);
  say('\nPress Ctrl-C to stop.');
} catch (err) {
  process.stderr.write(`\nfailed to start: ${(err as Error).message}\n`);
  await stopAll(1);
}

/**
 * The releases recorded for `local` that this start does not run: npm start runs the workspace's
 * sources (v1) of every service, so a version released before it stopped is said, not silently
 * replaced. Reads the last line of each service's ledger (the deploy kit's JSON lines).
 */
function releasesNotStarted(services: readonly string[]): string[] {
  const lines: string[] = [];
  for (const service of services) {
    let text: string;
    try {
      text = readFileSync(
        join(flotillaHome(process.env, ROOT), 'releases', 'local', `${service}.jsonl`),
        'utf8',
      );
    } catch {
      continue;
    }
    const last = text
      .trim()
      .split('\n')
      .flatMap((line) => {
        try {
          return [JSON.parse(line) as { result?: string; label?: string; version?: string }];
        } catch {
          return [];
        }
      })
      .findLast((record) => record.result === 'released');
    if (last?.label) {
      lines.push(
        `  Note:       ${service} runs the workspace (v1); its last release in local, ${last.label}, is not started again ` +
          `(npx nx run ${service}:rollback --env=local --to=${last.version ?? last.label} returns to it)`,
      );
    }
  }
  return lines;
}
