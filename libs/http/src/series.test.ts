import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import express, { type RequestHandler } from 'express';
import request from 'supertest';
import { series } from './series.ts';

function appWith(chain: RequestHandler) {
  const app = express();
  app.use(chain);
  app.get('/', (req, res) => {
    res.json({ seen: (req as unknown as { seen?: string[] }).seen ?? [] });
  });
  app.use(
    (err: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(500).json({ error: err.message });
    },
  );
  return app;
}

const mark =
  (name: string): RequestHandler =>
  (req, _res, next) => {
    const r = req as unknown as { seen?: string[] };
    (r.seen ??= []).push(name);
    next();
  };

describe('series', () => {
  it('runs the middlewares in order, then the rest of the app', async () => {
    const res = await request(appWith(series([mark('a'), mark('b'), mark('c')]))).get('/');

    assert.deepEqual(res.body, { seen: ['a', 'b', 'c'] });
  });

  it('waits for a middleware that calls next later', async () => {
    const later: RequestHandler = (_req, _res, next) => {
      setTimeout(next, 5);
    };

    const res = await request(appWith(series([mark('a'), later, mark('b')]))).get('/');

    assert.deepEqual(res.body, { seen: ['a', 'b'] });
  });

  it('skips the rest and hands Express an error passed to next', async () => {
    const fail: RequestHandler = (_req, _res, next) => next(new Error('refused'));

    const res = await request(appWith(series([mark('a'), fail, mark('b')]))).get('/');

    assert.deepEqual([res.status, res.body], [500, { error: 'refused' }]);
  });

  it('hands Express an error thrown by a middleware', async () => {
    const fail: RequestHandler = () => {
      throw new Error('thrown');
    };

    const res = await request(appWith(series([fail, mark('b')]))).get('/');

    assert.deepEqual([res.status, res.body], [500, { error: 'thrown' }]);
  });

  it('hands Express the rejection of an async middleware', async () => {
    const fail: RequestHandler = async () => {
      await Promise.resolve();
      throw new Error('rejected');
    };

    const res = await request(appWith(series([fail, mark('b')]))).get('/');

    assert.deepEqual([res.status, res.body], [500, { error: 'rejected' }]);
  });
});
