// `npm start`: the whole system on this machine. PostgreSQL and Redis come from the infrastructure
// resolver (DATABASE_URL/REDIS_URL, else Docker, else local binaries); each service gets its own
// database, applies its migrations and starts as its own process. Ctrl-C stops everything.
//   node tools/scripts/src/start.ts [service ...]
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  ensureDatabase,
  resolveInfrastructure,
  waitFor,
  type Infrastructure,
} from '@flotilla/testing';
import { SERVICES, wiring, type ServiceDefinition } from './services.ts';
import { formatLogLine } from './log-format.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const say = (message: string) => process.stdout.write(`${message}\n`);

const requested = process.argv.slice(2);
const unknown = requested.filter((name) => !SERVICES.some((s) => s.name === name));
if (unknown.length > 0) {
  process.stderr.write(
    `unknown service(s): ${unknown.join(', ')}; known: ${SERVICES.map((s) => s.name).join(', ')}\n`,
  );
  process.exit(2);
}
const selected =
  requested.length > 0 ? SERVICES.filter((s) => requested.includes(s.name)) : SERVICES;

const running = new Map<string, ChildProcess>();
let infra: Infrastructure | undefined;
let stopping = false;

async function stopAll(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    say('\nstopping…');
    await Promise.all(
      [...running.entries()].map(async ([name, child]) => {
        if (child.exitCode !== null) return;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
        say(`  ${name} stopped`);
      }),
    );
    await infra?.stop();
    say('stopped.');
  }
  process.exit(code);
}
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

function startService(service: ServiceDefinition, env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['--import', './src/instrumentation.ts', 'src/main.ts'], {
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
    if (!stopping) {
      say(`[${service.name}] exited (${signal ?? code}); stopping the system`);
      void stopAll(1);
    }
  });
  return child;
}

try {
  say('Flotilla: starting the system');
  infra = await resolveInfrastructure({ log: (message) => say(`  ${message}`) });
  say(`  PostgreSQL from ${infra.sources.postgres}, Redis from ${infra.sources.redis}`);

  const adminToken = randomBytes(32).toString('base64url');
  const env = wiring({
    jwtPrivateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString(),
    orderServiceSecret: randomBytes(32).toString('base64url'),
    adminToken,
  });
  // In order, each ready before the next starts: order-service needs user-service's JWKS.
  for (const service of selected) {
    const databaseUrl = service.database
      ? await ensureDatabase(infra.databaseUrl, service.database)
      : undefined;
    say(
      `  starting ${service.name} on :${service.port}${service.database ? ` (database ${service.database}, migrations on start)` : ''}`,
    );
    running.set(
      service.name,
      startService(service, {
        PORT: String(service.port),
        HOST: '127.0.0.1',
        ...(databaseUrl ? { DATABASE_URL: databaseUrl, MIGRATE_ON_START: 'true' } : {}),
        REDIS_URL: infra.redisUrl,
        SHUTDOWN_DRAIN_DELAY_MS: '0',
        ...env[service.name],
      }),
    );
    await waitFor(
      `${service.name} /ready`,
      async () => {
        const res = await fetch(`http://127.0.0.1:${service.port}/ready`);
        if (!res.ok) throw new Error(`/ready answered ${res.status}`);
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
  }

  say('\nFlotilla is up:');
  for (const service of selected) {
    const base = `http://localhost:${service.port}`;
    say(
      `  ${service.name.padEnd(16)} ${base}   (/health /ready /metrics)  admin http://127.0.0.1:${service.adminPort}/admin/faults`,
    );
  }
  if (selected.some((s) => s.name === 'gateway')) {
    say(
      '\n  API:        http://localhost:8080/api  (OpenAPI: http://localhost:8080/api/openapi.json)',
    );
    say('  Traffic:    http://127.0.0.1:8081/admin/upstreams');
  }
  say(`  Admin token (every admin API): ${adminToken}`);
  say('\nPress Ctrl-C to stop.');
} catch (err) {
  process.stderr.write(`\nfailed to start: ${(err as Error).message}\n`);
  await stopAll(1);
}
