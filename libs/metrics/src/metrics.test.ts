import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import express from 'express';
import request from 'supertest';
import { HTTP_DURATION_BUCKETS, createMetrics } from './index.ts';

/** An app shaped like a service: metrics first, routes at the root and under a prefix. */
function appWithMetrics(defaultMetrics = false) {
  const metrics = createMetrics({ service: 'svc', defaultMetrics });
  const app = express();
  app.use(metrics.httpMiddleware);
  app.use(metrics.router);
  app.use(express.json());
  app.get('/users/:id', (_req, res) => res.json({}));
  app.get('/users/:id/missing', (_req, res) => res.status(404).json({}));
  const api = express.Router();
  api.get('/items/:id', (_req, res) => res.status(202).json({}));
  api.get('/items/:id/broken', () => {
    throw new Error('broken');
  });
  api.get('/slow/:id', async (_req, res) => {
    await new Promise((resolve) => setImmediate(resolve));
    res.json({});
  });
  const v2 = express.Router();
  v2.get('/things/:thingId', (_req, res) => res.json({}));
  api.use('/v2', v2);
  app.use('/api', api);
  app.post('/echo', (req, res) => res.json(req.body as unknown));
  app.all(['/proxy', '/proxy/{*rest}'], (_req, res) => res.json({}));
  app.use(
    (err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status((err as { status?: number }).status ?? 500).json({});
    },
  );
  return { app, metrics };
}

async function scrape(app: express.Express): Promise<string> {
  return (await request(app).get('/metrics')).text;
}

/** The value of one series, found by its name and labels in any order. */
function value(text: string, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)\{(.*)\} (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = (match[2] ?? '').split(',');
    if (wanted.every((pair) => present.includes(pair))) return Number(match[3]);
  }
  return undefined;
}

const requests = (text: string, labels: Record<string, string>) =>
  value(text, 'http_server_requests_total', { method: 'GET', service: 'svc', ...labels });

describe('createMetrics HTTP counters', () => {
  it('labels requests with the route template, never the raw URL', async () => {
    const { app } = appWithMetrics();

    await request(app).get('/users/123');
    await request(app).get('/users/456?expand=orders');

    const text = await scrape(app);
    assert.equal(requests(text, { route: '/users/:id', status_code: '200' }), 2);
    assert.ok(!text.includes('/users/123'));
    assert.ok(!text.includes('/users/456'));
  });

  it('includes the mount path of a router', async () => {
    const { app } = appWithMetrics();

    await request(app).get('/api/items/7');
    await request(app).get('/api/v2/things/9');

    const text = await scrape(app);
    assert.equal(requests(text, { route: '/api/items/:id', status_code: '202' }), 1);
    assert.equal(requests(text, { route: '/api/v2/things/:thingId', status_code: '200' }), 1);
  });

  it('keeps the mount path when a route in a router throws', async () => {
    const { app } = appWithMetrics();

    await request(app).get('/api/items/7/broken');

    const text = await scrape(app);
    assert.equal(requests(text, { route: '/api/items/:id/broken', status_code: '500' }), 1);
  });

  it('keeps the mount path when a route answers after an await', async () => {
    const { app } = appWithMetrics();

    await request(app).get('/api/slow/3');

    assert.equal(requests(await scrape(app), { route: '/api/slow/:id', status_code: '200' }), 1);
  });

  it('labels a 404 from a matched route with its template', async () => {
    const { app } = appWithMetrics();

    await request(app).get('/users/1/missing');

    const text = await scrape(app);
    assert.equal(requests(text, { route: '/users/:id/missing', status_code: '404' }), 1);
  });

  it('labels requests no route matched as unmatched, in one series', async () => {
    const { app } = appWithMetrics();

    await request(app).get('/wp-admin/setup.php');
    await request(app).get('/.env');
    await request(app).get('/random/path/1');

    const text = await scrape(app);
    assert.equal(requests(text, { route: 'unmatched', status_code: '404' }), 3);
    for (const raw of ['wp-admin', '.env', 'random']) assert.ok(!text.includes(raw), raw);
  });

  it('labels a route on several paths (a proxy prefix) by its first path', async () => {
    const { app } = appWithMetrics();

    await request(app).get('/proxy');
    await request(app).get('/proxy/users/42?x=1');

    const text = await scrape(app);
    assert.equal(requests(text, { route: '/proxy', status_code: '200' }), 2);
    assert.ok(!text.includes('users/42'));
  });

  it('labels requests rejected before routing as unrouted', async () => {
    const { app } = appWithMetrics();

    await request(app).post('/echo').set('content-type', 'application/json').send('{"a":');

    const text = await scrape(app);
    assert.equal(
      value(text, 'http_server_requests_total', {
        method: 'POST',
        route: 'unrouted',
        status_code: '400',
      }),
      1,
    );
  });

  it('counts each request once, however often it is scraped', async () => {
    const { app } = appWithMetrics();

    await request(app).get('/users/1');
    const first = await scrape(app);
    const again = await scrape(app);
    await request(app).get('/users/2');
    await request(app).get('/users/3');
    const later = await scrape(app);

    const users = { route: '/users/:id', status_code: '200' };
    assert.equal(requests(first, users), 1);
    assert.equal(requests(again, users), 1);
    assert.equal(requests(later, users), 3);
    assert.equal(requests(later, { route: '/metrics', status_code: '200' }), 2);
  });

  it('labels by method and status code', async () => {
    const { app } = appWithMetrics();

    await request(app).post('/echo').send({ a: 1 });
    await request(app).get('/users/1');

    const text = await scrape(app);
    assert.equal(
      value(text, 'http_server_requests_total', {
        method: 'POST',
        route: '/echo',
        status_code: '200',
      }),
      1,
    );
    assert.equal(requests(text, { route: '/users/:id', status_code: '200' }), 1);
  });
});

describe('createMetrics duration and in-flight', () => {
  it('records a duration histogram with the same labels and the documented buckets', async () => {
    const { app } = appWithMetrics();

    await request(app).get('/users/1');
    await request(app).get('/users/2');

    const text = await scrape(app);
    const labels = { method: 'GET', route: '/users/:id', status_code: '200', service: 'svc' };
    assert.equal(value(text, 'http_server_request_duration_seconds_count', labels), 2);
    const sum = value(text, 'http_server_request_duration_seconds_sum', labels);
    assert.ok(sum !== undefined && sum > 0 && sum < 10, `sum ${sum}`);
    for (const le of HTTP_DURATION_BUCKETS) {
      assert.notEqual(
        value(text, 'http_server_request_duration_seconds_bucket', { ...labels, le: String(le) }),
        undefined,
        `bucket ${le}`,
      );
    }
    assert.equal(
      value(text, 'http_server_request_duration_seconds_bucket', { ...labels, le: '+Inf' }),
      2,
    );
  });

  it('counts requests in flight while they are served', async () => {
    const metrics = createMetrics({ service: 'svc', defaultMetrics: false });
    const app = express();
    app.use(metrics.httpMiddleware);
    let during: number | undefined;
    app.get('/work', async (_req, res) => {
      during = (await metrics.registry.getSingleMetric('http_server_requests_in_flight')?.get())
        ?.values[0]?.value;
      res.send('ok');
    });

    await request(app).get('/work');

    const after = (await metrics.registry.getSingleMetric('http_server_requests_in_flight')?.get())
      ?.values[0]?.value;
    assert.equal(during, 1);
    assert.equal(after, 0);
  });
});

describe('createMetrics /metrics', () => {
  it('serves the Prometheus text format', async () => {
    const res = await request(appWithMetrics().app).get('/metrics');

    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'] ?? '', /^text\/plain; version=0\.0\.4/);
    assert.match(res.text, /# TYPE http_server_requests_total counter/);
    assert.match(res.text, /# TYPE http_server_request_duration_seconds histogram/);
    assert.match(res.text, /# TYPE http_server_requests_in_flight gauge/);
  });

  it('includes default process metrics by default, labelled with the service', async () => {
    const metrics = createMetrics({ service: 'svc' });
    const text = await metrics.registry.metrics();

    assert.match(text, /process_cpu_seconds_total\{service="svc"\}/);
    assert.match(text, /nodejs_eventloop_lag_seconds\{service="svc"\}/);
  });

  it('leaves default process metrics out when asked', async () => {
    const text = await createMetrics({ service: 'svc', defaultMetrics: false }).registry.metrics();

    assert.doesNotMatch(text, /process_cpu_seconds_total/);
    assert.doesNotMatch(text, /nodejs_/);
  });

  it('keeps each registry separate, so two services in one process do not mix', async () => {
    const a = appWithMetrics();
    const b = appWithMetrics();

    await request(a.app).get('/users/1');

    assert.equal(requests(await scrape(a.app), { route: '/users/:id', status_code: '200' }), 1);
    assert.equal(
      requests(await scrape(b.app), { route: '/users/:id', status_code: '200' }),
      undefined,
    );
  });
});

describe('createMetrics pool and Redis gauges', () => {
  it('reads the pool counts at scrape time', async () => {
    const { app, metrics } = appWithMetrics();
    const pool = { totalCount: 5, idleCount: 3, waitingCount: 1 };
    metrics.observePool(pool);

    const first = await scrape(app);
    pool.waitingCount = 4;
    pool.idleCount = 0;
    const second = await scrape(app);

    assert.equal(value(first, 'db_pool_connections', { state: 'total', service: 'svc' }), 5);
    assert.equal(value(first, 'db_pool_connections', { state: 'idle', service: 'svc' }), 3);
    assert.equal(value(first, 'db_pool_connections', { state: 'waiting', service: 'svc' }), 1);
    assert.equal(value(second, 'db_pool_connections', { state: 'idle', service: 'svc' }), 0);
    assert.equal(value(second, 'db_pool_connections', { state: 'waiting', service: 'svc' }), 4);
  });

  it('reports Redis as 1 only while the client is ready', async () => {
    const metrics = createMetrics({ service: 'svc', defaultMetrics: false });
    const redis = { status: 'connecting' };
    metrics.observeRedis(redis);
    const read = async () =>
      (await metrics.registry.getSingleMetric('redis_connected')?.get())?.values[0]?.value;

    const connecting = await read();
    redis.status = 'ready';
    const ready = await read();
    redis.status = 'reconnecting';
    const reconnecting = await read();

    assert.deepEqual([connecting, ready, reconnecting], [0, 1, 0]);
  });
});
