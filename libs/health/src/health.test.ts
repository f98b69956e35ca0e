import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import express from 'express';
import request from 'supertest';
import { createHealth, type DependencyCheck, type HealthOptions } from './index.ts';

const up = (name: string, critical?: boolean): DependencyCheck => ({
  name,
  ...(critical === undefined ? {} : { critical }),
  check: () => Promise.resolve(),
});

const down = (name: string, critical?: boolean): DependencyCheck => ({
  name,
  ...(critical === undefined ? {} : { critical }),
  check: () => Promise.reject(new Error(`${name} refused the connection`)),
});

function appWith(checks: DependencyCheck[], options: Partial<HealthOptions> = {}) {
  const health = createHealth({ checks, checkTimeoutMs: 200, ...options });
  const app = express();
  app.use(health.router);
  return { app, health };
}

describe('GET /health', () => {
  it('answers 200 ok even when a critical dependency is down', async () => {
    const { app } = appWith([down('postgres')]);

    const res = await request(app).get('/health');

    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'ok');
    assert.equal(res.headers['cache-control'], 'no-store');
  });

  it('does not run the dependency checks', async () => {
    let calls = 0;
    const counted: DependencyCheck = { name: 'postgres', check: () => Promise.resolve(calls++) };
    const { app } = appWith([counted]);

    await request(app).get('/health');

    assert.equal(calls, 0);
  });

  it('answers 200 while draining: the process is alive, just leaving', async () => {
    const { app, health } = appWith([]);
    health.startDraining();

    const res = await request(app).get('/health');

    assert.equal(res.status, 200);
  });

  it('reports the uptime in whole seconds from the injected clock', async () => {
    let time = 1_000_000;
    const { app } = appWith([], { now: () => time });
    time += 42_400;

    const res = await request(app).get('/health');

    assert.equal(res.body.uptimeSeconds, 42);
  });
});

describe('GET /ready', () => {
  it('is 200 ready when every check is up, with a result per dependency', async () => {
    const { app } = appWith([up('postgres'), up('redis', false)]);

    const res = await request(app).get('/ready');

    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'ready');
    assert.deepEqual(Object.keys(res.body.checks).sort(), ['postgres', 'redis']);
    assert.equal(res.body.checks.postgres.status, 'up');
    assert.equal(res.body.checks.postgres.critical, true);
    assert.equal(res.body.checks.redis.status, 'up');
    assert.equal(res.body.checks.redis.critical, false);
    assert.equal(res.body.checks.postgres.error, undefined);
    assert.equal(res.headers['cache-control'], 'no-store');
  });

  it('is 200 ready with no checks at all', async () => {
    const res = await request(appWith([]).app).get('/ready');

    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { status: 'ready', checks: {} });
  });

  it('is 503 not_ready when a critical check fails, with its error message', async () => {
    const { app } = appWith([down('postgres'), up('redis', false)]);

    const res = await request(app).get('/ready');

    assert.equal(res.status, 503);
    assert.equal(res.body.status, 'not_ready');
    assert.equal(res.body.checks.postgres.status, 'down');
    assert.equal(res.body.checks.postgres.error, 'postgres refused the connection');
    assert.equal(res.body.checks.redis.status, 'up');
  });

  it('stays 200 but degraded when only a non-critical check fails', async () => {
    const { app } = appWith([up('postgres'), down('redis', false)]);

    const res = await request(app).get('/ready');

    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'degraded');
    assert.equal(res.body.checks.redis.status, 'down');
    assert.equal(res.body.checks.redis.error, 'redis refused the connection');
  });

  it('is not_ready rather than degraded when critical and non-critical checks both fail', async () => {
    const { app } = appWith([down('postgres'), down('redis', false)]);

    const res = await request(app).get('/ready');

    assert.equal(res.status, 503);
    assert.equal(res.body.status, 'not_ready');
  });

  it('counts a check that throws instead of rejecting as down', async () => {
    const throws: DependencyCheck = {
      name: 'broker',
      check: () => {
        throw new Error('client not connected');
      },
    };

    const res = await request(appWith([throws]).app).get('/ready');

    assert.equal(res.status, 503);
    assert.equal(res.body.checks.broker.error, 'client not connected');
  });

  it('counts a check that hangs as down after checkTimeoutMs', async () => {
    const hangs: DependencyCheck = { name: 'slow', check: () => new Promise(() => undefined) };
    const { app } = appWith([hangs, up('redis')], { checkTimeoutMs: 30 });

    const res = await request(app).get('/ready');

    assert.equal(res.status, 503);
    assert.equal(res.body.checks.slow.status, 'down');
    assert.equal(res.body.checks.slow.error, 'timed out after 30 ms');
    assert.equal(res.body.checks.redis.status, 'up');
  });

  it('runs the checks in parallel', async () => {
    // `first` answers only once `second` has started: run one after the other, it times out.
    let secondStarted!: () => void;
    const started = new Promise<void>((resolve) => (secondStarted = resolve));
    const first: DependencyCheck = { name: 'first', check: () => started };
    const second: DependencyCheck = {
      name: 'second',
      check: () => {
        secondStarted();
        return Promise.resolve();
      },
    };

    const res = await request(appWith([first, second], { checkTimeoutMs: 500 }).app).get('/ready');

    assert.equal(res.body.checks.first.status, 'up');
    assert.equal(res.body.checks.second.status, 'up');
  });

  it('measures each check with the injected clock', async () => {
    let time = 0;
    const takes42: DependencyCheck = {
      name: 'postgres',
      check: () => {
        time += 42;
        return Promise.resolve();
      },
    };

    const res = await request(appWith([takes42], { now: () => time }).app).get('/ready');

    assert.equal(res.body.checks.postgres.latencyMs, 42);
  });

  it('is 503 draining once draining starts, still listing the checks', async () => {
    const { app, health } = appWith([up('postgres')]);
    assert.equal(health.draining, false);

    health.startDraining();
    const res = await request(app).get('/ready');

    assert.equal(health.draining, true);
    assert.equal(res.status, 503);
    assert.equal(res.body.status, 'draining');
    assert.equal(res.body.checks.postgres.status, 'up');
  });
});

describe('readiness()', () => {
  it('returns the same report as /ready without HTTP', async () => {
    const { health } = appWith([up('postgres'), down('redis', false)]);

    const report = await health.readiness();

    assert.equal(report.status, 'degraded');
    assert.equal(report.checks['postgres']?.status, 'up');
    assert.equal(report.checks['redis']?.status, 'down');
  });
});
