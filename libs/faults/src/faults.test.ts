import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createHealth } from '@flotilla/health';
import { createAdminApp, createServiceApp } from '@flotilla/http';
import { createLogger } from '@flotilla/logging';
import request from 'supertest';
import { createFaults, faultConfigShape, faultSettingsOf, type FaultSettings } from './index.ts';
import { z } from 'zod';

const logger = createLogger({ service: 'test', level: 'silent' });
const TOKEN = 'a'.repeat(32);
const OFF: FaultSettings = { errorRatePercent: 0, latencyMs: 0, failReadiness: false };

/** A service app with one route, its health and the faults; sleeps are recorded, not waited. */
function build(initial: Partial<FaultSettings> = {}, random = () => 0.5) {
  const slept: number[] = [];
  const faults = createFaults(
    { ...OFF, ...initial },
    {
      logger,
      random,
      sleep: (ms) => {
        slept.push(ms);
        return Promise.resolve();
      },
    },
  );
  const health = createHealth({ checks: [faults.readinessCheck] });
  const app = createServiceApp({
    logger,
    bodyLimit: '1kb',
    systemRoutes: [health],
    faultMiddleware: faults.middleware,
    routes: (a) => a.get('/things', (_req, res) => res.json({ ok: true })),
  });
  const admin = createAdminApp({ token: TOKEN, logger, routes: (a) => faults.adminRoutes(a) });
  return { app, admin, faults, slept };
}

describe('fault flags', () => {
  it('changes nothing while every flag is off', async () => {
    const { app, slept } = build();
    await request(app).get('/things').expect(200, { ok: true });
    await request(app).get('/ready').expect(200);
    assert.deepEqual(slept, []);
  });

  it('fails the share of requests the error rate names with 503 FAULT_INJECTED', async () => {
    const draws = [0.1, 0.29, 0.3, 0.9];
    const { app } = build({ errorRatePercent: 30 }, () => draws.shift() ?? 0);
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await request(app).get('/things')).status);
    assert.deepEqual(statuses, [503, 503, 200, 200]);
    const res = await request(app).get('/things');
    assert.equal(res.status, 503);
    assert.equal(res.body.code, 'FAULT_INJECTED');
    assert.match(res.headers['content-type'] ?? '', /application\/problem\+json/);
  });

  it('adds the configured latency to API requests but not to probes', async () => {
    const { app, slept } = build({ latencyMs: 250 });
    await request(app).get('/things').expect(200);
    await request(app).get('/health').expect(200);
    assert.deepEqual(slept, [250]);
  });

  it('never fails probes, even at a 100% error rate', async () => {
    const { app } = build({ errorRatePercent: 100 });
    await request(app).get('/health').expect(200);
    await request(app).get('/ready').expect(200);
    await request(app).get('/things').expect(503);
  });

  it('makes /ready answer 503 while failReadiness is on, and only then', async () => {
    const { app, faults } = build({ failReadiness: true });
    const res = await request(app).get('/ready').expect(503);
    assert.equal(res.body.checks['fault-injection'].status, 'down');
    await request(app).get('/things').expect(200);
    faults.update({ failReadiness: false });
    await request(app).get('/ready').expect(200);
  });
});

describe('fault admin routes', () => {
  const auth = { authorization: `Bearer ${TOKEN}` };

  it('refuses requests without the admin token', async () => {
    const { admin } = build();
    const res = await request(admin).get('/admin/faults').expect(401);
    assert.equal(res.body.code, 'ADMIN_UNAUTHORIZED');
    await request(admin)
      .get('/admin/faults')
      .set('authorization', `Bearer ${'b'.repeat(32)}`)
      .expect(401);
  });

  it('reads, changes and resets the flags at run time', async () => {
    const { app, admin } = build();
    await request(admin).get('/admin/faults').set(auth).expect(200, OFF);
    await request(admin)
      .put('/admin/faults')
      .set(auth)
      .send({ errorRatePercent: 100 })
      .expect(200, { ...OFF, errorRatePercent: 100 });
    await request(app).get('/things').expect(503);
    await request(admin).delete('/admin/faults').set(auth).expect(200, OFF);
    await request(app).get('/things').expect(200);
  });

  it('rejects bad settings with 400 and the failing fields, changing nothing', async () => {
    const { admin, faults } = build();
    for (const body of [
      { errorRatePercent: 101 },
      { latencyMs: -1 },
      { latencyMs: 1.5 },
      { failReadiness: 'yes' },
      { errorRate: 5 },
    ]) {
      const res = await request(admin).put('/admin/faults').set(auth).send(body).expect(400);
      assert.equal(res.body.code, 'VALIDATION_FAILED');
      assert.ok(res.body.errors.length > 0);
    }
    assert.deepEqual(faults.settings(), OFF);
  });
});

describe('fault config', () => {
  const schema = z.object(faultConfigShape);

  it('is all off by default', () => {
    assert.deepEqual(faultSettingsOf(schema.parse({})), OFF);
  });

  it('reads the flags from their env keys and rejects out-of-range values', () => {
    assert.deepEqual(
      faultSettingsOf(
        schema.parse({
          FAULT_ERROR_RATE: '12.5',
          FAULT_LATENCY_MS: '40',
          FAULT_READINESS_FAIL: 'true',
        }),
      ),
      { errorRatePercent: 12.5, latencyMs: 40, failReadiness: true },
    );
    assert.equal(schema.safeParse({ FAULT_ERROR_RATE: '150' }).success, false);
    assert.equal(schema.safeParse({ FAULT_READINESS_FAIL: 'yes' }).success, false);
  });
});
