import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import express from 'express';
import request from 'supertest';
import { createLogger, requestLogger } from './index.ts';

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

/** A destination that keeps every JSON line. */
function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean))
        lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, stream };
}

describe('createLogger', () => {
  it('writes one JSON line with level name, service and ISO time', () => {
    const { lines, stream } = capture();
    createLogger({ service: 'svc', destination: stream }).info({ orderId: 'o-1' }, 'hello');
    assert.equal(lines.length, 1);
    const [line] = lines;
    assert.equal(line?.['level'], 'info');
    assert.equal(line?.['service'], 'svc');
    assert.equal(line?.['msg'], 'hello');
    assert.equal(line?.['orderId'], 'o-1');
    assert.ok(!Number.isNaN(Date.parse(String(line?.['time']))));
  });

  it('adds the trace and span ids of the active span', () => {
    const { lines, stream } = capture();
    const logger = createLogger({ service: 'svc', destination: stream });
    const spanContext = {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: 1,
    };
    context.with(trace.setSpan(context.active(), trace.wrapSpanContext(spanContext)), () =>
      logger.info('inside'),
    );
    logger.info('outside');
    assert.equal(lines[0]?.['trace_id'], spanContext.traceId);
    assert.equal(lines[0]?.['span_id'], spanContext.spanId);
    assert.equal(lines[1]?.['trace_id'], undefined);
  });

  it('redacts credentials at the top level and one level down', () => {
    const { lines, stream } = capture();
    createLogger({ service: 'svc', destination: stream }).info(
      {
        password: 'p1',
        token: 't1',
        body: {
          password: 'p2',
          currentPassword: 'p3',
          newPassword: 'p4',
          accessToken: 't2',
          name: 'kept',
        },
        req: { headers: { authorization: 'Bearer secret', cookie: 'sid=1', accept: 'kept' } },
      },
      'login',
    );
    const raw = JSON.stringify(lines[0]);
    for (const secret of ['p1', 'p2', 'p3', 'p4', 't1', 't2', 'Bearer secret', 'sid=1']) {
      assert.ok(!raw.includes(`"${secret}"`), `${secret} is redacted`);
    }
    assert.match(raw, /"name":"kept"/);
    assert.match(raw, /"accept":"kept"/);
  });

  it('honours the level', () => {
    const { lines, stream } = capture();
    const logger = createLogger({ service: 'svc', level: 'warn', destination: stream });
    logger.info('dropped');
    logger.warn('kept');
    assert.deepEqual(
      lines.map((l) => l['msg']),
      ['kept'],
    );
  });
});

describe('requestLogger', () => {
  function app() {
    const { lines, stream } = capture();
    const a = express();
    a.use(requestLogger(createLogger({ service: 'svc', destination: stream })));
    a.get('/health', (_req, res) => res.send('ok'));
    a.get('/status/:code', (req, res) => res.status(Number(req.params['code'])).send('x'));
    return { app: a, lines };
  }

  it('logs 2xx at info, 4xx at warn and 5xx at error', async () => {
    const { app: a, lines } = app();
    await request(a).get('/status/200');
    await request(a).get('/status/404');
    await request(a).get('/status/503');
    assert.deepEqual(
      lines.map((l) => [l['level'], (l['res'] as { statusCode: number }).statusCode]),
      [
        ['info', 200],
        ['warn', 404],
        ['error', 503],
      ],
    );
  });

  it('does not log probes', async () => {
    const { app: a, lines } = app();
    await request(a).get('/health');
    assert.equal(lines.length, 0);
  });
});
