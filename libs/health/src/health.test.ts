import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import express from 'express';
import request from 'supertest';
import { createHealth, type DependencyCheck } from './index.ts';

const up = (name: string, critical?: boolean): DependencyCheck => ({
  name,
  ...(critical === undefined ? {} : { critical }),
  check: () => Promise.resolve(),
});
const down = (name: string, critical?: boolean): DependencyCheck => ({
  name,
  ...(critical === undefined ? {} : { critical }),
  check: () => Promise.reject(new Error(`${name} refused`)),
});

function appWith(checks: DependencyCheck[], checkTimeoutMs = 200) {
  const health = createHealth({ checks, checkTimeoutMs });
  const app = express();
  app.use(health.router);
  return { app, health };
}

describe('GET /health', () => {
  it('answers 200 whatever the dependencies say', async () => {
    const res = await request(appWith([down('postgres')]).app).get('/health');
    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'ok');
  });
});

describe('GET /ready', () => {
  it('is 200 ready when every check is up, with a result per dependency', async () => {
    const res = await request(appWith([up('postgres'), up('redis', false)]).app).get('/ready');
    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'ready');
    assert.equal(res.body.checks.postgres.status, 'up');
    assert.equal(res.body.checks.redis.status, 'up');
    assert.equal(res.headers['cache-control'], 'no-store');
  });

  it('is 503 not_ready when a critical check fails, saying why', async () => {
    const res = await request(appWith([down('postgres'), up('redis', false)]).app).get('/ready');
    assert.equal(res.status, 503);
    assert.equal(res.body.status, 'not_ready');
    assert.equal(res.body.checks.postgres.status, 'down');
    assert.equal(res.body.checks.postgres.error, 'postgres refused');
  });

  it('stays 200 but degraded when only a non-critical check fails', async () => {
    const res = await request(appWith([up('postgres'), down('redis', false)]).app).get('/ready');
    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'degraded');
    assert.equal(res.body.checks.redis.critical, false);
  });

  it('counts a check that hangs past the timeout as down', async () => {
    const hang: DependencyCheck = { name: 'slow', check: () => new Promise(() => undefined) };
    const started = Date.now();
    const res = await request(appWith([hang], 100).app).get('/ready');
    assert.equal(res.status, 503);
    assert.match(res.body.checks.slow.error, /timed out after 100 ms/);
    assert.ok(Date.now() - started < 1000);
  });

  it('is 503 draining once draining starts', async () => {
    const { app, health } = appWith([up('postgres')]);
    health.startDraining();
    const res = await request(app).get('/ready');
    assert.equal(res.status, 503);
    assert.equal(res.body.status, 'draining');
    assert.equal(health.draining, true);
  });
});
