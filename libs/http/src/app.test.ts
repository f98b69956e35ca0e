import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger } from '@flotilla/logging';
import request from 'supertest';
import { z } from 'zod';
import {
  AppError,
  DEFAULT_SERVER_TIMEOUTS,
  createHttpServer,
  createServiceApp,
  defineErrors,
  listen,
  validate,
} from './index.ts';

function build() {
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _e, done) {
      logs.push(chunk.toString());
      done();
    },
  });
  const logger = createLogger({ service: 'test', destination });
  const errors = defineErrors({ THING_NOT_FOUND: { status: 404, message: 'No such thing.' } });
  const app = createServiceApp({
    logger,
    bodyLimit: '1kb',
    routes: (a) => {
      a.post('/things', (req, res) => {
        const body = validate(
          z.strictObject({ name: z.string().min(1), size: z.number().int() }),
          req.body,
          'body',
        );
        res.status(201).json(body);
      });
      a.get('/things/:id', () => {
        throw errors.create('THING_NOT_FOUND', { details: { id: 'x' } });
      });
      a.get('/boom', () => {
        throw new Error('database password is hunter2');
      });
      a.get('/teapot', () => {
        throw new AppError('TEAPOT', 'I am a teapot.', 418, { headers: { 'Retry-After': '5' } });
      });
    },
  });
  return { app, logs };
}

describe('createServiceApp', () => {
  it('accepts a plain x-request-id and echoes it', async () => {
    const res = await request(build().app).get('/nope').set('x-request-id', 'abc-123');
    assert.equal(res.headers['x-request-id'], 'abc-123');
    assert.equal(res.body.requestId, 'abc-123');
  });

  it('replaces an unsafe x-request-id with a new UUID', async () => {
    for (const unsafe of ['has spaces', 'x'.repeat(129), 'quote"s']) {
      const res = await request(build().app).get('/nope').set('x-request-id', unsafe);
      assert.match(res.headers['x-request-id'] ?? '', /^[0-9a-f-]{36}$/);
    }
  });

  it('sets security headers and hides the framework', async () => {
    const res = await request(build().app).get('/nope');
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.ok(res.headers['content-security-policy']);
    assert.equal(res.headers['x-powered-by'], undefined);
  });

  it('answers unknown routes with a 404 problem', async () => {
    const res = await request(build().app).get('/nope');
    assert.equal(res.status, 404);
    assert.match(res.headers['content-type'] ?? '', /^application\/problem\+json/);
    assert.equal(res.body.code, 'ROUTE_NOT_FOUND');
    assert.equal(res.body.type, 'about:blank');
    assert.equal(res.body.title, 'Not Found');
    assert.equal(res.body.status, 404);
  });

  it('maps malformed JSON to 400, an oversized body to 413, another media type to 415', async () => {
    const { app } = build();
    const malformed = await request(app)
      .post('/things')
      .set('content-type', 'application/json')
      .send('{"name":');
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.code, 'MALFORMED_JSON');

    const large = await request(app)
      .post('/things')
      .send({ name: 'x'.repeat(2048), size: 1 });
    assert.equal(large.status, 413);
    assert.equal(large.body.code, 'PAYLOAD_TOO_LARGE');

    const text = await request(app)
      .post('/things')
      .set('content-type', 'text/plain')
      .send('name=x');
    assert.equal(text.status, 415);
    assert.equal(text.body.code, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers validation failures with 400 and every failing field path', async () => {
    const res = await request(build().app)
      .post('/things')
      .send({ name: '', size: 1.5, extra: true });
    assert.equal(res.status, 400);
    assert.equal(res.body.code, 'VALIDATION_FAILED');
    assert.deepEqual(res.body.errors.map((e: { path: string }) => e.path).sort(), [
      'body',
      'body.name',
      'body.size',
    ]);
  });

  it('keeps the code, status, details and headers of an AppError', async () => {
    const { app } = build();
    const notFound = await request(app).get('/things/1');
    assert.equal(notFound.status, 404);
    assert.equal(notFound.body.code, 'THING_NOT_FOUND');
    assert.equal(notFound.body.detail, 'No such thing.');
    assert.equal(notFound.body.id, 'x');
    const teapot = await request(app).get('/teapot');
    assert.equal(teapot.status, 418);
    assert.equal(teapot.headers['retry-after'], '5');
  });

  it('hides the message of a 500 from the client and logs it with the request id', async () => {
    const { app, logs } = build();
    const res = await request(app).get('/boom').set('x-request-id', 'req-500');
    assert.equal(res.status, 500);
    assert.equal(res.body.code, 'INTERNAL');
    assert.ok(!JSON.stringify(res.body).includes('hunter2'));
    const logged = logs.join('');
    assert.match(logged, /hunter2/);
    assert.match(logged, /req-500/);
  });
});

describe('createHttpServer and listen', () => {
  it('sets explicit timeouts, the header timeout above keep-alive', () => {
    const server = createHttpServer(() => undefined, {
      keepAliveTimeoutMs: 70_000,
      headersTimeoutMs: 1000,
    });
    assert.equal(server.keepAliveTimeout, 70_000);
    assert.ok(server.headersTimeout > server.keepAliveTimeout);
    assert.equal(server.requestTimeout, DEFAULT_SERVER_TIMEOUTS.requestTimeoutMs);
  });

  it('resolves the bound port when listening on port 0', async () => {
    const server = createHttpServer((_req, res) => res.end('ok'));
    const port = await listen(server, 0, '127.0.0.1');
    try {
      assert.ok(port > 0);
      assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), 'ok');
    } finally {
      server.close();
    }
  });
});
