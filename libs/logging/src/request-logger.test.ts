import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import express from 'express';
import request from 'supertest';
import { createLogger, requestLogger } from './index.ts';

type Line = Record<string, unknown> & {
  req?: { id?: unknown; method?: string; url?: string; userAgent?: string };
  res?: { statusCode?: number };
};

/** An app with the request logger first, writing to an in-memory destination. */
function appWithRequestLog() {
  const lines: Line[] = [];
  const raw: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        raw.push(line);
        lines.push(JSON.parse(line) as Line);
      }
      done();
    },
  });
  const app = express();
  app.use((req, _res, next) => {
    // What the http kit's request-id middleware does before the logger runs.
    req.id = req.get('x-request-id') ?? 'generated-id';
    next();
  });
  app.use(requestLogger(createLogger({ service: 'svc', destination })));
  for (const path of ['/health', '/ready', '/metrics'])
    app.get(path, (_req, res) => res.send('ok'));
  app.get('/status/:code', (req, res) => res.status(Number(req.params['code'])).send('x'));
  app.get('/boom', () => {
    throw new Error('boom');
  });
  app.use(
    (_err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(500).send('failed');
    },
  );
  return { app, lines, raw };
}

describe('requestLogger', () => {
  it('writes one line per finished request with method, url, status and duration', async () => {
    const { app, lines } = appWithRequestLog();

    await request(app).get('/status/201?page=2').set('user-agent', 'probe/1.0');

    assert.equal(lines.length, 1);
    const [line] = lines;
    assert.equal(line?.req?.method, 'GET');
    assert.equal(line?.req?.url, '/status/201?page=2');
    assert.equal(line?.req?.userAgent, 'probe/1.0');
    assert.equal(line?.res?.statusCode, 201);
    assert.equal(typeof line?.['responseTime'], 'number');
    assert.equal(line?.['service'], 'svc');
  });

  it('uses the request id already set on the request', async () => {
    const { app, lines } = appWithRequestLog();

    await request(app).get('/status/200').set('x-request-id', 'req-42');

    assert.equal(lines[0]?.req?.id, 'req-42');
  });

  it('logs 2xx and 3xx at info, 4xx at warn and 5xx at error', async () => {
    const { app, lines } = appWithRequestLog();

    for (const status of [200, 302, 404, 429, 500, 503])
      await request(app).get(`/status/${status}`);

    assert.deepEqual(
      lines.map((l) => [l.res?.statusCode, l['level']]),
      [
        [200, 'info'],
        [302, 'info'],
        [404, 'warn'],
        [429, 'warn'],
        [500, 'error'],
        [503, 'error'],
      ],
    );
  });

  it('logs a request that ended in a thrown error at error', async () => {
    const { app, lines } = appWithRequestLog();

    await request(app).get('/boom');

    assert.equal(lines.length, 1);
    assert.equal(lines[0]?.['level'], 'error');
    assert.equal(lines[0]?.res?.statusCode, 500);
  });

  it('does not log probes and scrapes, with or without a query string', async () => {
    const { app, lines } = appWithRequestLog();

    await request(app).get('/health');
    await request(app).get('/ready');
    await request(app).get('/metrics');
    await request(app).get('/ready?verbose=1');
    await request(app).get('/status/200');

    assert.deepEqual(
      lines.map((l) => l.req?.url),
      ['/status/200'],
    );
  });

  it('keeps request headers, and so credentials, out of the line', async () => {
    const { app, raw } = appWithRequestLog();

    await request(app)
      .get('/status/401')
      .set('authorization', 'Bearer abc.def.ghi')
      .set('cookie', 'sid=s3cr3t');

    assert.equal(raw.length, 1);
    assert.ok(!raw[0]?.includes('abc.def.ghi'));
    assert.ok(!raw[0]?.includes('s3cr3t'));
  });
});

describe('requestLogger and aborted requests', () => {
  it('logs a request whose client went away before the answer, marked aborted', async () => {
    const { app, lines } = appWithRequestLog();
    app.get('/slow', (_req, res) => {
      setTimeout(() => res.send('late'), 200);
    });
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;

    const controller = new AbortController();
    const call = fetch(`http://127.0.0.1:${port}/slow`, { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await assert.rejects(call);
    for (let waited = 0; lines.length === 0 && waited < 2000; waited += 20) await sleep(20);
    server.close();

    assert.equal(lines.length, 1);
    assert.equal(lines[0]?.req?.url, '/slow');
    assert.equal(lines[0]?.['aborted'], true);
  });
});
