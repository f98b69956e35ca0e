import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { LockHeldError } from '../platform.ts';
import { fileLocks } from './files.ts';

const FILES = fileURLToPath(new URL('./files.ts', import.meta.url));
const dirs: string[] = [];
after(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

async function lockDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'flotilla-locks-'));
  dirs.push(dir);
  return dir;
}

/**
 * A separate deploy process. It says `ready`, tries to take the lock on `go`, says `got` or
 * `held`, and keeps what it got until `release`: every contender has tried before any lets go.
 */
const CONTENDER = `
const { createInterface } = await import('node:readline');
const { fileLocks } = await import(process.env.FILES);
const commands = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
process.stdout.write('ready\\n');
await commands.next();
try {
  const held = await fileLocks(process.env.DIR).acquire(process.env.SERVICE, 'contender');
  process.stdout.write('got\\n');
  await commands.next();
  await held.release();
} catch (err) {
  if (err.name !== 'LockHeldError') throw err;
  process.stdout.write('held\\n');
}
process.exit(0);
`;

interface Contender {
  /** Waits for the contender's first `count` lines. */
  said(count: number): Promise<void>;
  tell(command: string): void;
  lines: string[];
  exited: Promise<void>;
}

function contender(dir: string, service: string): Contender {
  const child = spawn(process.execPath, ['--input-type=module', '-e', CONTENDER], {
    env: { ...process.env, FILES, DIR: dir, SERVICE: service },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiting: (() => void)[] = [];
  let err = '';
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(line);
    for (const wake of waiting.splice(0)) wake();
  });
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(err || `exit ${code}`));
      for (const wake of waiting.splice(0)) wake();
    });
  });
  return {
    lines,
    exited,
    async said(count) {
      while (lines.length < count) {
        if (child.exitCode !== null) throw new Error(err || `exited after ${lines.join(' ')}`);
        await new Promise<void>((resolve) => waiting.push(resolve));
      }
    },
    tell: (command) => child.stdin.write(`${command}\n`),
  };
}

/** Processes asking for the lock of their service at the same moment: what each of them got. */
async function race(dir: string, services: string[]): Promise<string[]> {
  const contenders = services.map((service) => contender(dir, service));
  await Promise.all(contenders.map((one) => one.said(1)));
  for (const one of contenders) one.tell('go');
  await Promise.all(contenders.map((one) => one.said(2)));
  for (const one of contenders) if (one.lines[1] === 'got') one.tell('release');
  await Promise.all(contenders.map((one) => one.exited));
  return contenders.map((one) => one.lines[1] ?? '');
}

/** The pid of a process that has exited: what a SIGKILLed deploy leaves in its lock. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((resolve) => child.on('close', resolve));
  assert.ok(child.pid);
  return child.pid;
}

async function staleLock(dir: string, file: string): Promise<void> {
  const lock = {
    holder: 'killed deploy',
    pid: await deadPid(),
    host: hostname(),
    since: '2026-01-01T00:00:00.000Z',
  };
  await writeFile(join(dir, file), JSON.stringify(lock), { mode: 0o600 });
}

const ROUNDS = 5;
const CONTENDERS = 6;

describe('fileLocks', () => {
  it('holds a lock until it is released, and names its holder', async () => {
    const locks = fileLocks(await lockDir());
    const held = await locks.acquire('order-service', 'alice: order-service 1.2.0');

    await assert.rejects(
      locks.acquire('order-service', 'bob'),
      (err: unknown) =>
        err instanceof LockHeldError &&
        err.lock.holder === 'alice: order-service 1.2.0' &&
        !err.lock.stale,
    );
    assert.equal((await locks.state('order-service'))?.holder, 'alice: order-service 1.2.0');

    await held.release();
    assert.equal(await locks.state('order-service'), undefined);
    await (await locks.acquire('order-service', 'bob')).release();
  });

  it('keeps the gateway and any service out of each other', async () => {
    const locks = fileLocks(await lockDir());
    const service = await locks.acquire('order-service', 'alice');
    await assert.rejects(locks.acquire('gateway', 'bob'), LockHeldError);
    const other = await locks.acquire('payment-service', 'carol');
    await Promise.all([service.release(), other.release()]);

    const gateway = await locks.acquire('gateway', 'bob');
    await assert.rejects(locks.acquire('user-service', 'alice'), LockHeldError);
    await gateway.release();
  });

  it('takes over a lock whose holder died, and says it was stale', async () => {
    const dir = await lockDir();
    await staleLock(dir, 'order-service.lock');
    const locks = fileLocks(dir);
    assert.deepEqual(await locks.state('order-service'), {
      holder: 'killed deploy',
      since: '2026-01-01T00:00:00.000Z',
      stale: true,
    });

    const held = await locks.acquire('order-service', 'alice');
    assert.equal((await locks.state('order-service'))?.holder, 'alice');
    await held.release();
  });

  it('takes over a stale lock even when a deploy was killed while taking it over', async () => {
    const dir = await lockDir();
    await staleLock(dir, 'order-service.lock');
    await staleLock(dir, 'order-service.lock.takeover');

    const held = await fileLocks(dir).acquire('order-service', 'alice');
    assert.deepEqual(await readdir(dir), ['order-service.lock']);
    await held.release();
  });

  it(`gives a free lock to exactly one of ${CONTENDERS} processes asking at once`, async () => {
    const dir = await lockDir();
    for (let round = 1; round <= ROUNDS; round++) {
      const results = await race(dir, Array<string>(CONTENDERS).fill('order-service'));
      assert.equal(
        results.filter((result) => result === 'got').length,
        1,
        `round ${round}: ${results.join(' ')}`,
      );
      assert.equal(results.filter((result) => result === 'held').length, CONTENDERS - 1);
      assert.deepEqual(await readdir(dir), [], `round ${round} left files behind`);
    }
  });

  it(`gives a stale lock to exactly one of ${CONTENDERS} processes taking it over at once`, async () => {
    const dir = await lockDir();
    for (let round = 1; round <= ROUNDS; round++) {
      await staleLock(dir, 'order-service.lock');
      const results = await race(dir, Array<string>(CONTENDERS).fill('order-service'));
      assert.equal(
        results.filter((result) => result === 'got').length,
        1,
        `round ${round}: ${results.join(' ')}`,
      );
      assert.deepEqual(await readdir(dir), [], `round ${round} left files behind`);
    }
  });

  it('lets the gateway and a service racing at once never both go ahead', async () => {
    const dir = await lockDir();
    for (let round = 1; round <= ROUNDS; round++) {
      const results = await race(dir, ['gateway', 'order-service', 'gateway', 'payment-service']);
      const [gatewayA, serviceA, gatewayB, serviceB] = results;
      const gateways = [gatewayA, gatewayB].filter((result) => result === 'got').length;
      const services = [serviceA, serviceB].filter((result) => result === 'got').length;
      assert.ok(gateways <= 1, `round ${round}: ${results.join(' ')}`);
      assert.ok(gateways === 0 || services === 0, `round ${round}: ${results.join(' ')}`);
    }
  });
});
