import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  freePort,
  startTestInfrastructure,
  waitFor,
  type TestInfrastructure,
} from '@flotilla/testing';
import { buildUser } from './helpers.ts';

const APP_DIR = fileURLToPath(new URL('..', import.meta.url));

/** The real service process, started as `nx serve` and the image start it. */
function startProcess(env: Record<string, string>): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, ['--import', './src/instrumentation.ts', 'src/main.ts'], {
    cwd: APP_DIR,
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output };
}

async function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const [code] = (await once(child, 'exit')) as [number | null];
  return code;
}

describe('the user-service process', () => {
  let infra: TestInfrastructure;
  before(async () => {
    infra = await startTestInfrastructure();
  });
  after(async () => {
    await infra.stop();
  });

  it('refuses to start with bad config, listing every bad key, and exits 78', async () => {
    const { child, output } = startProcess({
      DATABASE_URL: 'mysql://nope',
      PORT: 'eighty',
      REDIS_URL: infra.redisUrl,
    });
    const code = await exitOf(child);
    assert.equal(code, 78);
    assert.match(output(), /DATABASE_URL/);
    assert.match(output(), /PORT/);
    assert.doesNotMatch(output(), /listening/);
  });

  it('drains on SIGTERM: unready first, in-flight requests finish with 2xx, then exit 0', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const { child, output } = startProcess({
      DATABASE_URL: infra.databaseUrl,
      REDIS_URL: infra.redisUrl,
      REDIS_KEY_PREFIX: infra.redisKeyPrefix,
      MIGRATE_ON_START: 'true',
      PORT: String(port),
      HOST: '127.0.0.1',
      // Long enough to see readiness turn 503 and liveness stay up on a busy machine: the listener
      // closes after it, and a connection opened then is refused or reset.
      SHUTDOWN_DRAIN_DELAY_MS: '2000',
      SHUTDOWN_TIMEOUT_MS: '20000',
    });
    try {
      await waitFor(
        'user-service /ready',
        async () => {
          const res = await fetch(`${base}/ready`);
          if (res.status !== 200) throw new Error(`ready ${res.status}`);
        },
        { timeoutMs: 20_000 },
      );

      // Registrations hash passwords with scrypt, so a batch of them is still running when
      // SIGTERM arrives.
      const inFlight = Array.from({ length: 16 }, () =>
        fetch(`${base}/users`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(buildUser()),
        }),
      );
      await sleep(50);
      child.kill('SIGTERM');

      await waitFor(
        'readiness to turn 503',
        async () => {
          const res = await fetch(`${base}/ready`);
          if (res.status !== 503) throw new Error(`ready ${res.status}`);
          assert.equal(((await res.json()) as { status: string }).status, 'draining');
        },
        { timeoutMs: 2000, intervalMs: 20 },
      );
      const healthDuringDrain = await fetch(`${base}/health`);
      assert.equal(healthDuringDrain.status, 200, 'liveness stays up while draining');

      const responses = await Promise.all(inFlight);
      assert.deepEqual(
        responses.map((r) => r.status),
        Array<number>(16).fill(201),
      );
      assert.equal(await exitOf(child), 0);
      const log = output();
      assert.match(log, /draining: readiness is now 503/);
      assert.match(log, /shutdown complete/);
      assert.ok(log.indexOf('draining') < log.indexOf('listener closed'));
    } finally {
      child.kill('SIGKILL');
    }
  });
});
