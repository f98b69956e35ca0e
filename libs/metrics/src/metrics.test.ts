import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import express from 'express';
import request from 'supertest';
import { createMetrics } from './index.ts';

function appWithMetrics(defaultMetrics = true) {
  const metrics = createMetrics({ service: 'svc', defaultMetrics });
  const app = express();
  app.use(metrics.httpMiddleware);
  app.use(metrics.router);
  app.get('/items/:id', (_req, res) => res.json({}));
  const api = express.Router();
  api.get('/orders/:orderId', (_req, res) => res.status(202).json({}));
  app.use('/api', api);
  return { app, metrics };
}

const series = (text: string) => text.split('\n').filter((line) => line.startsWith('http_server_'));

describe('createMetrics', () => {
  it('counts requests by method, route template and status, never by raw URL', async () => {
    const { app } = appWithMetrics();
    await request(app).get('/items/123');
    await request(app).get('/items/456');
    await request(app).get('/api/orders/789');
    await request(app).get('/random/path/1');

    const text = (await request(app).get('/metrics')).text;
    const lines = series(text);
    assert.ok(
      lines.includes(
        'http_server_requests_total{method="GET",route="/items/:id",status_code="200",service="svc"} 2',
      ),
      lines.join('\n'),
    );
    assert.ok(
      lines.includes(
        'http_server_requests_total{method="GET",route="/api/orders/:orderId",status_code="202",service="svc"} 1',
      ),
    );
    assert.ok(
      lines.includes(
        'http_server_requests_total{method="GET",route="unmatched",status_code="404",service="svc"} 1',
      ),
    );
    assert.ok(!text.includes('/items/123') && !text.includes('/random/path/1'));
    assert.ok(
      lines.some((l) =>
        l.startsWith(
          'http_server_request_duration_seconds_bucket{le="0.1",service="svc",method="GET",route="/items/:id",status_code="200"}',
        ),
      ),
    );
  });

  it('serves the Prometheus text format', async () => {
    const res = await request(appWithMetrics().app).get('/metrics');
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'] ?? '', /^text\/plain; version=0\.0\.4/);
  });

  it('exposes a pool and a Redis client as gauges read at scrape time', async () => {
    const { app, metrics } = appWithMetrics(false);
    const pool = { totalCount: 5, idleCount: 3, waitingCount: 1 };
    const redis = { status: 'ready' };
    metrics.observePool(pool);
    metrics.observeRedis(redis);
    let text = (await request(app).get('/metrics')).text;
    assert.match(text, /db_pool_connections\{state="total",service="svc"\} 5/);
    assert.match(text, /db_pool_connections\{state="idle",service="svc"\} 3/);
    assert.match(text, /db_pool_connections\{state="waiting",service="svc"\} 1/);
    assert.match(text, /redis_connected\{service="svc"\} 1/);

    redis.status = 'reconnecting';
    pool.waitingCount = 4;
    text = (await request(app).get('/metrics')).text;
    assert.match(text, /redis_connected\{service="svc"\} 0/);
    assert.match(text, /db_pool_connections\{state="waiting",service="svc"\} 4/);
  });

  it('includes default process metrics unless turned off', async () => {
    assert.match(
      (await request(appWithMetrics(true).app).get('/metrics')).text,
      /process_cpu_seconds_total/,
    );
    assert.doesNotMatch(
      (await request(appWithMetrics(false).app).get('/metrics')).text,
      /process_cpu_seconds_total/,
    );
  });
});
