import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { setImmediate } from 'node:timers/promises';
import { createLogger } from '@flotilla/logging';
import express from 'express';
import { Agent, request } from 'undici';
import { createHealth, installGracefulShutdown, type Closer, type Health } from './index.ts';

const logger = createLogger({ service: 'test', level: 'silent' });

/** A promise with its resolve function, to let a test decide when something happens. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * A real server on port 0 with the health routes, a `/slow` route that answers when the test
 * says so, and a `/hang` route that never answers. Keep-alive is long, so only the shutdown's
 * own sweep can close idle connections in time.
 */
async function startServer(health: Health, events: string[] = []) {
  const slowEntered = deferred();
  const slowRelease = deferred();
  const hangEntered = deferred();
  const app = express();
  app.use(health.router);
  app.get('/slow', async (_req, res) => {
    res.once('finish', () => events.push('slow request finished'));
    slowEntered.resolve();
    await slowRelease.promise;
    res.send('done');
  });
  app.get('/hang', () => hangEntered.resolve());
  const server: Server = createServer(app);
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    server,
    url,
    slowEntered: slowEntered.promise,
    releaseSlow: slowRelease.resolve,
    hangEntered: hangEntered.promise,
  };
}

const recordingCloser = (name: string, events: string[]): Closer => ({
  name,
  close: () => void events.push(`close ${name}`),
});

describe('installGracefulShutdown', () => {
  it('drains, lets an in-flight request finish, closes resources in reverse order, then exits 0', async () => {
    const events: string[] = [];
    const health = createHealth({ checks: [] });
    const { server, url, slowEntered, releaseSlow } = await startServer(health, events);
    const drainDelay = deferred();
    const exited = deferred<number>();
    const shutdown = installGracefulShutdown({
      server,
      health,
      logger,
      resources: ['postgres', 'redis', 'tracer'].map((name) => recordingCloser(name, events)),
      drainDelayMs: 5000,
      timeoutMs: 3000,
      signals: [],
      sleep: (ms) => {
        events.push(`drain delay ${ms}`);
        return drainDelay.promise;
      },
      exit: (code) => {
        events.push(`exit ${code}`);
        exited.resolve(code);
      },
    });
    const inFlight = fetch(`${url}/slow`);
    await slowEntered;

    const done = shutdown('SIGTERM');

    assert.equal(health.draining, true, 'unready before the drain delay');
    const duringDrain = await fetch(`${url}/ready`);
    assert.equal(duringDrain.status, 503);
    assert.equal(((await duringDrain.json()) as { status: string }).status, 'draining');
    assert.equal(server.listening, true, 'still accepting during the drain delay');

    drainDelay.resolve();
    while (server.listening) await setImmediate();
    assert.deepEqual(events, ['drain delay 5000'], 'nothing closed while a request runs');
    releaseSlow();
    const res = await inFlight;
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'done');

    assert.equal(await exited.promise, 0);
    await done;
    assert.equal(server.listening, false);
    assert.deepEqual(events, [
      'drain delay 5000',
      'slow request finished',
      'close tracer',
      'close redis',
      'close postgres',
      'exit 0',
    ]);
  });

  it('stops accepting connections once the drain delay is over', async () => {
    const health = createHealth({ checks: [] });
    const { server, url } = await startServer(health);
    const exited = deferred<number>();

    await installGracefulShutdown({
      server,
      health,
      logger,
      resources: [],
      drainDelayMs: 0,
      timeoutMs: 5000,
      signals: [],
      sleep: () => Promise.resolve(),
      exit: exited.resolve,
    })('SIGTERM');

    assert.equal(await exited.promise, 0);
    await assert.rejects(fetch(`${url}/health`));
  });

  it('drains every listener it is given, each letting its in-flight request finish', async () => {
    const events: string[] = [];
    const health = createHealth({ checks: [] });
    const first = await startServer(health, events);
    const second = await startServer(health, events);
    const exited = deferred<number>();
    const inFlight = fetch(`${second.url}/slow`);
    await second.slowEntered;

    const done = installGracefulShutdown({
      server: [first.server, second.server],
      health,
      logger,
      resources: [recordingCloser('redis', events)],
      drainDelayMs: 0,
      timeoutMs: 5000,
      signals: [],
      sleep: () => Promise.resolve(),
      exit: exited.resolve,
    })('SIGTERM');

    while (first.server.listening || second.server.listening) await setImmediate();
    await assert.rejects(fetch(`${first.url}/health`));
    assert.deepEqual(events, [], 'nothing closed while a request runs on the second listener');
    second.releaseSlow();
    assert.equal((await inFlight).status, 200);
    assert.equal(await exited.promise, 0);
    await done;
    assert.deepEqual(events, ['slow request finished', 'close redis']);
  });

  it('lets an idle keep-alive connection carry one more request during the idle grace, closing it after', async () => {
    const health = createHealth({ checks: [] });
    const { server, url } = await startServer(health);
    const agent = new Agent({ keepAliveTimeout: 60_000, connections: 1 });
    const get = () => request(`${url}/health`, { dispatcher: agent });
    const first = await get();
    await first.body.text();
    const grace = deferred();
    const exited = deferred<number>();
    const done = installGracefulShutdown({
      server,
      health,
      logger,
      resources: [],
      drainDelayMs: 0,
      idleGraceMs: 10_000,
      timeoutMs: 5000,
      signals: [],
      sleep: (ms) => (ms === 10_000 ? grace.promise : Promise.resolve()),
      exit: exited.resolve,
    })('SIGTERM');
    while (server.listening) await setImmediate();

    const again = await get();
    assert.equal(again.statusCode, 200, 'the idle connection still answers during the grace');
    assert.equal(again.headers['connection'], 'close');
    await again.body.text();
    assert.equal(await exited.promise, 0);
    await done;
    await agent.close();
  });

  it('exits 1 when a resource fails to close, after trying the others', async () => {
    const events: string[] = [];
    const health = createHealth({ checks: [] });
    const { server } = await startServer(health);
    const exited = deferred<number>();

    await installGracefulShutdown({
      server,
      health,
      logger,
      resources: [
        recordingCloser('postgres', events),
        {
          name: 'throws',
          close: () => {
            throw new Error('already closed');
          },
        },
        recordingCloser('redis', events),
        { name: 'rejects', close: () => Promise.reject(new Error('flush failed')) },
      ],
      drainDelayMs: 0,
      timeoutMs: 5000,
      signals: [],
      sleep: () => Promise.resolve(),
      exit: exited.resolve,
    })('SIGTERM');

    assert.equal(await exited.promise, 1);
    assert.deepEqual(events, ['close redis', 'close postgres']);
  });

  it('exits 1 when a resource hangs past timeoutMs', async () => {
    const health = createHealth({ checks: [] });
    const { server } = await startServer(health);
    const exited = deferred<number>();

    void installGracefulShutdown({
      server,
      health,
      logger,
      resources: [{ name: 'hangs', close: () => new Promise<void>(() => undefined) }],
      drainDelayMs: 0,
      timeoutMs: 50,
      signals: [],
      sleep: () => Promise.resolve(),
      exit: exited.resolve,
    })('SIGTERM');

    assert.equal(await exited.promise, 1);
  });

  it('exits 1 when an in-flight request outlasts timeoutMs', async () => {
    const health = createHealth({ checks: [] });
    const { server, url, hangEntered } = await startServer(health);
    const hanging = fetch(`${url}/hang`).catch(() => 'aborted');
    const exited = deferred<number>();
    const closed: string[] = [];
    await hangEntered;

    void installGracefulShutdown({
      server,
      health,
      logger,
      resources: [recordingCloser('postgres', closed)],
      drainDelayMs: 0,
      timeoutMs: 50,
      signals: [],
      sleep: () => Promise.resolve(),
      exit: exited.resolve,
    })('SIGTERM');

    assert.equal(await exited.promise, 1);
    assert.deepEqual(closed, [], 'resources stay open while a request still runs');
    server.closeAllConnections();
    assert.equal(await hanging, 'aborted');
  });

  it('runs once when asked twice', async () => {
    const events: string[] = [];
    const health = createHealth({ checks: [] });
    const { server } = await startServer(health);
    const shutdown = installGracefulShutdown({
      server,
      health,
      logger,
      resources: [recordingCloser('postgres', events)],
      drainDelayMs: 0,
      timeoutMs: 5000,
      signals: [],
      sleep: () => Promise.resolve(),
      exit: (code) => void events.push(`exit ${code}`),
    });

    const first = shutdown('SIGTERM');
    const second = shutdown('SIGINT');
    await Promise.all([first, second]);

    assert.equal(first, second);
    assert.deepEqual(events, ['close postgres', 'exit 0']);
  });

  it('shuts down on SIGTERM and exits 0 when no signals are given', async () => {
    // A child process, so the real signal handlers and process.exit are installed there.
    const child = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `
        import { createServer } from 'node:http';
        import { createLogger } from '@flotilla/logging';
        import { createHealth, installGracefulShutdown } from './src/index.ts';
        const server = createServer((_req, res) => res.end('ok'));
        server.listen(0, '127.0.0.1', () => {
          installGracefulShutdown({
            server,
            health: createHealth({ checks: [] }),
            logger: createLogger({ service: 'child', level: 'silent' }),
            resources: [{ name: 'db', close: () => void process.stdout.write('closed db\\n') }],
            drainDelayMs: 0,
            timeoutMs: 5000,
          });
          process.stdout.write('listening\\n');
        });
        `,
      ],
      { cwd: new URL('..', import.meta.url), stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let stdout = '';
    const listening = deferred();
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout.includes('listening\n')) listening.resolve();
    });
    const exit = once(child, 'exit');
    await listening.promise;

    child.kill('SIGTERM');
    const [code, signal] = (await exit) as [number | null, NodeJS.Signals | null];

    assert.equal(signal, null, 'handled, not killed by the signal');
    assert.equal(code, 0);
    assert.match(stdout, /closed db/);
  });
});
