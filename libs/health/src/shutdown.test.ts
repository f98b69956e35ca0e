import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger } from '@flotilla/logging';
import { createHealth, installGracefulShutdown, type Closer } from './index.ts';

const logger = createLogger({ service: 'test', level: 'silent' });

async function serverWithSlowRoute(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    if (req.url === '/slow') void sleep(300).then(() => res.end('done'));
    else res.end('fast');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('installGracefulShutdown', () => {
  it('turns unready, lets in-flight requests finish, closes resources in reverse order, exits 0', async () => {
    const { server, url } = await serverWithSlowRoute();
    const health = createHealth({ checks: [] });
    const events: string[] = [];
    const resource = (name: string): Closer => ({
      name,
      close: () => void events.push(`close ${name}`),
    });
    let exitCode: number | undefined;
    const shutdown = installGracefulShutdown({
      server,
      health,
      logger,
      resources: [resource('postgres'), resource('redis')],
      drainDelayMs: 50,
      timeoutMs: 5000,
      signals: [],
      exit: (code) => {
        exitCode = code;
      },
    });

    const inFlight = fetch(`${url}/slow`);
    await sleep(20);
    const done = shutdown('test');
    assert.equal(health.draining, true, 'unready at once');
    const res = await inFlight;
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'done');
    await done;
    assert.deepEqual(events, ['close redis', 'close postgres']);
    assert.equal(exitCode, 0);
    assert.equal(server.listening, false);
  });

  it('exits 1 when a resource fails to close, after closing the others', async () => {
    const { server } = await serverWithSlowRoute();
    const closed: string[] = [];
    let exitCode: number | undefined;
    await installGracefulShutdown({
      server,
      health: createHealth({ checks: [] }),
      logger,
      resources: [
        { name: 'a', close: () => void closed.push('a') },
        { name: 'b', close: () => Promise.reject(new Error('stuck')) },
      ],
      drainDelayMs: 0,
      timeoutMs: 5000,
      signals: [],
      exit: (code) => {
        exitCode = code;
      },
    })('test');
    assert.deepEqual(closed, ['a']);
    assert.equal(exitCode, 1);
  });

  it('exits 1 when shutdown hangs past the timeout', async () => {
    const { server } = await serverWithSlowRoute();
    const codes: number[] = [];
    void installGracefulShutdown({
      server,
      health: createHealth({ checks: [] }),
      logger,
      resources: [{ name: 'hangs', close: () => new Promise<void>(() => undefined) }],
      drainDelayMs: 0,
      timeoutMs: 100,
      signals: [],
      exit: (code) => void codes.push(code),
    })('test');
    await sleep(250);
    assert.deepEqual(codes, [1]);
  });

  it('runs once when signalled twice', async () => {
    const { server } = await serverWithSlowRoute();
    let closes = 0;
    const shutdown = installGracefulShutdown({
      server,
      health: createHealth({ checks: [] }),
      logger,
      resources: [{ name: 'x', close: () => void closes++ }],
      drainDelayMs: 0,
      timeoutMs: 1000,
      signals: [],
      exit: () => undefined,
    });
    await Promise.all([shutdown('one'), shutdown('two')]);
    assert.equal(closes, 1);
  });
});
