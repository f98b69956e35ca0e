import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import express, { Router } from 'express';
import request from 'supertest';
import { systemRoutes, type SystemRoutes } from './system-routes.ts';

/** A system router that records every request it is entered with. */
function probe(entered: string[]): SystemRoutes {
  const router = Router();
  router.use((req, _res, next) => {
    entered.push(`${req.method} ${req.url}`);
    next();
  });
  router.get('/health', (_req, res) => res.json({ status: 'ok' }));
  return { paths: ['/health'], router };
}

function appWith(routes: SystemRoutes[]) {
  const app = express();
  const system = systemRoutes(routes);
  if (system) app.use(system);
  app.get('/users', (_req, res) => res.json({ route: 'users' }));
  app.use((req, res) => res.status(404).json({ missed: `${req.method} ${req.path}` }));
  return app;
}

describe('systemRoutes', () => {
  it('answers its paths and lets every other request past without entering its routers', async () => {
    const entered: string[] = [];
    const app = appWith([probe(entered)]);

    const health = await request(app).get('/health');
    const users = await request(app).get('/users');

    assert.deepEqual([health.status, health.body], [200, { status: 'ok' }]);
    assert.deepEqual([users.status, users.body], [200, { route: 'users' }]);
    assert.deepEqual(entered, ['GET /health']);
  });

  it('matches paths as Express does: with a query, in any case, with a trailing slash', async () => {
    const entered: string[] = [];
    const app = appWith([probe(entered)]);

    for (const path of ['/health?verbose=1', '/HEALTH', '/health/']) {
      const res = await request(app).get(path);
      assert.equal(res.status, 200, path);
    }
    assert.equal(entered.length, 3);
  });

  it('passes a request its routers do not answer on to the rest of the app', async () => {
    const entered: string[] = [];
    const res = await request(appWith([probe(entered)])).post('/health');

    assert.deepEqual([res.status, res.body], [404, { missed: 'POST /health' }]);
    assert.deepEqual(entered, ['POST /health']);
  });

  it('dispatches each path to the routers in the order given', async () => {
    const first = Router().get('/metrics', (_req, res) => res.send('first'));
    const second = Router().get('/metrics', (_req, res) => res.send('second'));
    const keys = Router().get('/keys', (_req, res) => res.send('keys'));
    const app = appWith([
      { paths: ['/metrics'], router: first },
      { paths: ['/metrics', '/keys'], router: second },
      { paths: ['/keys'], router: keys },
    ]);

    assert.equal((await request(app).get('/metrics')).text, 'first');
    assert.equal((await request(app).get('/keys')).text, 'keys');
  });

  it('is nothing at all without routes', () => {
    assert.equal(systemRoutes([]), undefined);
  });
});
