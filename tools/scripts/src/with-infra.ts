// Runs a command with DATABASE_URL and REDIS_URL pointing at PostgreSQL and Redis from the
// infrastructure resolver, then stops whatever was started. `npm test` uses it so that every test
// suite shares one pair of servers (each suite still gets its own database and key prefix).
//   node tools/scripts/src/with-infra.ts -- nx run-many -t test
import { spawn } from 'node:child_process';
import { resolveInfrastructure } from '@flotilla/testing';

const separator = process.argv.indexOf('--');
const [command, ...args] =
  separator === -1 ? process.argv.slice(2) : process.argv.slice(separator + 1);
if (!command) {
  process.stderr.write('usage: with-infra.ts -- <command> [args...]\n');
  process.exit(2);
}

const log = (message: string) => process.stderr.write(`[infra] ${message}\n`);
const infra = await resolveInfrastructure({ log });
log(`PostgreSQL from ${infra.sources.postgres}, Redis from ${infra.sources.redis}`);

const child = spawn(command, args, {
  stdio: 'inherit',
  shell: process.platform === 'win32',
  env: { ...process.env, DATABASE_URL: infra.databaseUrl, REDIS_URL: infra.redisUrl },
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => child.kill(signal));
}
const code = await new Promise<number>((resolve) => {
  child.on('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? 128 + 15 : 1)));
  child.on('error', (err) => {
    log(`could not run ${command}: ${err.message}`);
    resolve(127);
  });
});
await infra.stop();
process.exit(code);
