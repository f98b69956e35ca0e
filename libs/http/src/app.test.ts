import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger } from '@flotilla/logging';
import express, { type RequestHandler } from 'express';
import request from 'supertest';
import { z } from 'zod';
import {
  AppError,
  buildOpenApiDocument,
  createServiceApp,
  defineErrors,
  validate,
} from './index.ts';

type LogLine = Record<string, unknown>;

const errors = defineErrors({
  THING_NOT_FOUND: { status: 404, message: 'No such thing.' },
  UPSTREAM_DOWN: { status: 503, message: 'Try again in a minute.', expose: true },
});

const thingBody = z.strictObject({
  name: z.string().min(1),
  owner: z.object({ email: z.email() }),
});

/** A service app with a few routes and its log lines captured through a pino destination. */
const thingsDocument = buildOpenApiDocument({ title: 'things', version: '1.0.0' }, [
  {
    method: 'post',
    path: '/things',
    operationId: 'makeThing',
    summary: 'Make a thing',
    responses: {},
  },
  {
    method: 'get',
    path: '/things/mine',
    operationId: 'getMyThing',
    summary: 'My thing',
    responses: {},
  },
  {
    method: 'get',
    path: '/things/{id}',
    operationId: 'getThing',
    summary: 'A thing',
    responses: {},
  },
  {
    method: 'patch',
    path: '/things/{id}',
    operationId: 'changeThing',
    summary: 'Change a thing',
    responses: {},
  },
]);

function build(options: { metricsMiddleware?: RequestHandler; jsonBody?: boolean } = {}) {
  const logs: LogLine[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean))
        logs.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  const system = express.Router();
  system.post('/system/echo', (req, res) => res.json({ body: req.body as unknown }));
  const app = createServiceApp({
    logger: createLogger({ service: 'test', destination }),
    bodyLimit: '1kb',
    systemRoutes: [{ paths: ['/system/echo'], router: system }],
    openApi: thingsDocument,
    ...options,
    routes: (a) => {
      a.post('/things', (req, res) => {
        res.status(201).json(validate(thingBody, req.body, 'body'));
      });
      a.post('/raw', (req, res) => {
        res.json({ parsed: req.body !== undefined });
      });
      a.get('/things/:id', (req) => {
        throw errors.create('THING_NOT_FOUND', { details: { id: req.params['id'] } });
      });
      a.get('/teapot', () => {
        throw new AppError('TEAPOT', 'I am a teapot.', 418, { headers: { 'Retry-After': '5' } });
      });
      a.get('/hidden-5xx', () => {
        throw new AppError('LEDGER_BROKEN', 'ledger row 7 is corrupt', 500, {
          details: { row: 7 },
        });
      });
      a.get('/exposed-5xx', () => {
        throw errors.create('UPSTREAM_DOWN', { details: { retryInSeconds: 60 } });
      });
      a.get('/boom', () => {
        throw new Error('password authentication failed for user "orders"');
      });
      a.get('/async-boom', async () => {
        await Promise.resolve();
        throw new Error('socket hang up at 10.0.3.7');
      });
      a.get('/ok', (_req, res) => res.json({ ok: true }));
      a.get('/db-down', () => {
        throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), {
          code: 'ECONNREFUSED',
        });
      });
      a.get('/db-restarting', () => {
        throw Object.assign(new Error('terminating connection due to administrator command'), {
          code: '57P01',
        });
      });
      a.get('/db-pool-timeout', () => {
        throw new Error('timeout exceeded when trying to connect');
      });
    },
  });
  return { app, logs };
}

describe('createServiceApp request ids', () => {
  it('accepts a plain x-request-id and echoes it', async () => {
    const res = await request(build().app).get('/ok').set('x-request-id', 'abc-123.x:9_Z');

    assert.equal(res.headers['x-request-id'], 'abc-123.x:9_Z');
  });

  it('accepts an id of exactly 128 characters', async () => {
    const id = 'a'.repeat(128);

    const res = await request(build().app).get('/ok').set('x-request-id', id);

    assert.equal(res.headers['x-request-id'], id);
  });

  for (const [why, unsafe] of [
    ['spaces', 'has spaces'],
    ['more than 128 characters', 'x'.repeat(129)],
    ['quotes', 'quote"s'],
    ['markup', '<script>'],
  ] as const) {
    it(`replaces an id with ${why} by a new UUID`, async () => {
      const res = await request(build().app).get('/ok').set('x-request-id', unsafe);

      assert.notEqual(res.headers['x-request-id'], unsafe);
      assert.match(
        res.headers['x-request-id'] ?? '',
        /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
      );
    });
  }

  it('creates a different id for each request that has none', async () => {
    const { app } = build();

    const first = await request(app).get('/ok');
    const second = await request(app).get('/ok');

    assert.ok(first.headers['x-request-id']);
    assert.notEqual(first.headers['x-request-id'], second.headers['x-request-id']);
  });

  it('puts the id in problem documents and in the request log line', async () => {
    const { app, logs } = build();

    const res = await request(app).get('/nope').set('x-request-id', 'req-404');

    assert.equal(res.body.requestId, 'req-404');
    const line = logs.find((l) => (l['req'] as { url?: string } | undefined)?.url === '/nope');
    assert.equal((line?.['req'] as { id?: string }).id, 'req-404');
  });
});

describe('createServiceApp headers', () => {
  it("sets helmet's security headers", async () => {
    const res = await request(build().app).get('/ok');

    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.match(res.headers['content-security-policy'] ?? '', /default-src 'self'/);
    assert.match(res.headers['strict-transport-security'] ?? '', /max-age=\d+/);
    assert.equal(res.headers['x-frame-options'], 'SAMEORIGIN');
  });

  it('does not say which framework serves the request', async () => {
    const res = await request(build().app).get('/ok');

    assert.equal(res.headers['x-powered-by'], undefined);
  });
});

describe('createServiceApp problems', () => {
  it('answers an unknown route with a 404 ROUTE_NOT_FOUND problem', async () => {
    const res = await request(build().app).get('/nope?x=1');

    assert.equal(res.status, 404);
    assert.match(res.headers['content-type'] ?? '', /^application\/problem\+json/);
    assert.deepEqual(
      { ...res.body, requestId: undefined },
      {
        type: 'about:blank',
        title: 'Not Found',
        status: 404,
        code: 'ROUTE_NOT_FOUND',
        detail: 'No route for GET /nope.',
        instance: '/nope?x=1',
        requestId: undefined,
      },
    );
  });

  it('answers malformed JSON with 400 MALFORMED_JSON', async () => {
    const res = await request(build().app)
      .post('/things')
      .set('content-type', 'application/json')
      .send('{"name":');

    assert.equal(res.status, 400);
    assert.equal(res.body.code, 'MALFORMED_JSON');
    assert.match(res.headers['content-type'] ?? '', /^application\/problem\+json/);
  });

  it('answers a body over the limit with 413 PAYLOAD_TOO_LARGE', async () => {
    const res = await request(build().app)
      .post('/things')
      .send({ name: 'x'.repeat(2048) });

    assert.equal(res.status, 413);
    assert.equal(res.body.code, 'PAYLOAD_TOO_LARGE');
  });

  it('accepts a body just under the limit', async () => {
    const name = 'x'.repeat(900);

    const res = await request(build().app)
      .post('/things')
      .send({ name, owner: { email: 'a@example.com' } });

    assert.equal(res.status, 201);
    assert.equal(res.body.name, name);
  });

  it('answers a body in another media type with 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    const res = await request(build().app)
      .post('/raw')
      .set('content-type', 'text/plain')
      .send('name=x');

    assert.equal(res.status, 415);
    assert.equal(res.body.code, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('lets a request without a body through whatever its content type', async () => {
    const res = await request(build().app).post('/raw').set('content-type', 'text/plain');

    assert.equal(res.status, 200);
    assert.equal(res.body.parsed, false);
  });

  it('keeps the status, code, details and headers of an AppError', async () => {
    const { app } = build();

    const notFound = await request(app).get('/things/t-9');
    const teapot = await request(app).get('/teapot');

    assert.equal(notFound.status, 404);
    assert.equal(notFound.body.code, 'THING_NOT_FOUND');
    assert.equal(notFound.body.title, 'Not Found');
    assert.equal(notFound.body.detail, 'No such thing.');
    assert.equal(notFound.body.id, 't-9');
    assert.equal(teapot.status, 418);
    assert.equal(teapot.body.code, 'TEAPOT');
    assert.equal(teapot.headers['retry-after'], '5');
  });

  it('hides the message and details of a 5xx AppError but keeps its code', async () => {
    const res = await request(build().app).get('/hidden-5xx');

    assert.equal(res.status, 500);
    assert.equal(res.body.code, 'LEDGER_BROKEN');
    assert.equal(res.body.detail, 'Internal server error.');
    assert.equal(res.body.row, undefined);
    assert.ok(!res.text.includes('corrupt'));
  });

  it('shows a 5xx written for clients', async () => {
    const res = await request(build().app).get('/exposed-5xx');

    assert.equal(res.status, 503);
    assert.equal(res.body.detail, 'Try again in a minute.');
    assert.equal(res.body.retryInSeconds, 60);
  });

  it('turns a thrown Error into 500 INTERNAL without its message', async () => {
    const res = await request(build().app).get('/boom');

    assert.equal(res.status, 500);
    assert.match(res.headers['content-type'] ?? '', /^application\/problem\+json/);
    assert.equal(res.body.code, 'INTERNAL');
    assert.equal(res.body.detail, 'Internal server error.');
    assert.ok(!res.text.includes('password authentication'));
    assert.ok(!res.text.includes('app.test.ts'), 'no stack trace');
  });

  it('answers 503 SERVICE_UNAVAILABLE with Retry-After when a dependency cannot be reached', async () => {
    for (const path of ['/db-down', '/db-restarting', '/db-pool-timeout']) {
      const res = await request(build().app).get(path);

      assert.equal(res.status, 503, path);
      assert.equal(res.body.code, 'SERVICE_UNAVAILABLE', path);
      assert.equal(res.headers['retry-after'], '1', path);
      assert.ok(!res.text.includes('127.0.0.1'), path);
    }
  });

  it('answers 405 with Allow for a method the document does not list on a path it does', async () => {
    const app = build().app;
    const res = await request(app).delete('/things/42');

    assert.equal(res.status, 405);
    assert.equal(res.body.code, 'METHOD_NOT_ALLOWED');
    assert.equal(res.headers['allow'], 'GET, PATCH, HEAD');
    assert.equal((await request(app).put('/things')).headers['allow'], 'POST');
    // A concrete path wins over a template that would take the method.
    const mine = await request(app).patch('/things/mine').send({ some: 'body' });
    assert.equal(mine.status, 405);
    assert.equal(mine.headers['allow'], 'GET, HEAD');
    // A path the document does not list stays a 404.
    assert.equal((await request(app).delete('/nothing/42')).status, 404);
  });

  it('serves the document at /openapi.json', async () => {
    const res = await request(build().app).get('/openapi.json');

    assert.equal(res.status, 200);
    assert.deepEqual(res.body, thingsDocument);
  });

  it('treats a rejected async route like a thrown one', async () => {
    const res = await request(build().app).get('/async-boom');

    assert.equal(res.status, 500);
    assert.equal(res.body.code, 'INTERNAL');
    assert.ok(!res.text.includes('10.0.3.7'));
  });

  it('logs the hidden message of a 500 at error with the request id', async () => {
    const { app, logs } = build();

    await request(app).get('/boom').set('x-request-id', 'req-500');

    const line = logs.find((l) => l['msg'] === 'request failed');
    assert.equal(line?.['level'], 'error');
    assert.equal(line?.['requestId'], 'req-500');
    assert.equal(line?.['code'], 'INTERNAL');
    assert.equal(
      (line?.['err'] as { message?: string }).message,
      'password authentication failed for user "orders"',
    );
  });
});

describe('createServiceApp validation', () => {
  it('answers invalid input with 400 VALIDATION_FAILED and every failing field path', async () => {
    const res = await request(build().app)
      .post('/things')
      .send({ name: '', owner: { email: 'not-an-email' }, extra: true });

    assert.equal(res.status, 400);
    assert.equal(res.body.code, 'VALIDATION_FAILED');
    assert.deepEqual(res.body.errors.map((e: { path: string }) => e.path).sort(), [
      'body',
      'body.name',
      'body.owner.email',
    ]);
    for (const issue of res.body.errors as { message: unknown }[]) {
      assert.equal(typeof issue.message, 'string');
    }
  });

  it('never echoes the rejected values', async () => {
    const res = await request(build().app)
      .post('/things')
      .send({ name: 'ok', owner: { email: 'hunter2-not-an-email' } });

    assert.equal(res.status, 400);
    assert.ok(!res.text.includes('hunter2'));
  });
});

describe('createServiceApp middleware order', () => {
  it('counts requests rejected before routing, such as malformed JSON', async () => {
    const seen: string[] = [];
    const metricsMiddleware: RequestHandler = (req, _res, next) => {
      seen.push(`${req.method} ${req.url}`);
      next();
    };

    await request(build({ metricsMiddleware }).app)
      .post('/things')
      .set('content-type', 'application/json')
      .send('{');

    assert.deepEqual(seen, ['POST /things']);
  });

  it('runs system routes before body parsing, so they are never refused for a body', async () => {
    const res = await request(build().app)
      .post('/system/echo')
      .set('content-type', 'text/plain')
      .send('ping');

    assert.equal(res.status, 200);
    assert.deepEqual(res.body, {});
  });

  it('leaves the body unread when JSON parsing is off', async () => {
    const res = await request(build({ jsonBody: false }).app)
      .post('/raw')
      .set('content-type', 'text/plain')
      .send('streamed through');

    assert.equal(res.status, 200);
    assert.equal(res.body.parsed, false);
  });
});
