import { context } from '@opentelemetry/api';
import { RPCType, getRPCMetadata } from '@opentelemetry/core';
import type { Request, RequestHandler, Router } from 'express';
import express from 'express';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Latency buckets in seconds: fine-grained where services usually answer (1 ms to 1 s). */
export const HTTP_DURATION_BUCKETS = [
  0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** What a pg Pool exposes about itself. */
export interface PoolStats {
  readonly totalCount: number;
  readonly idleCount: number;
  readonly waitingCount: number;
}

/** What an ioredis client exposes about itself. */
export interface RedisStatus {
  readonly status: string;
}

export interface Metrics {
  readonly registry: Registry;
  /** Counts and times every request by method, route template and status code. */
  readonly httpMiddleware: RequestHandler;
  /** `GET /metrics` in the Prometheus text format. */
  readonly router: Router;
  /** The paths {@link router} answers. */
  readonly paths: readonly string[];
  /** Exposes a pg pool's connections as `db_pool_connections{state}`. */
  observePool(pool: PoolStats): void;
  /** Exposes a Redis client's connection as `redis_connected` (1 or 0). */
  observeRedis(redis: RedisStatus): void;
}

export interface MetricsOptions {
  service: string;
  /** Default process metrics (CPU, memory, event-loop lag, GC); on unless turned off. */
  defaultMetrics?: boolean;
}

/**
 * A Prometheus registry with default process metrics and HTTP RED metrics:
 * `http_server_requests_total{method,route,status_code}` and
 * `http_server_request_duration_seconds{method,route,status_code}`. Routes are templates such as
 * `/users/:id`, never raw URLs, so label cardinality stays bounded.
 */
export function createMetrics({ service, defaultMetrics = true }: MetricsOptions): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  if (defaultMetrics) collectDefaultMetrics({ register: registry });

  // A request adds to plain numbers: the count of its series and the requests in flight. The
  // counter and the gauge take them up when they are read, at scrape time, through prom-client's
  // `collect`. Only the duration goes into prom-client per request, since its buckets have no
  // other way in.
  const series = new Map<string, Series>();
  let inFlightNow = 0;

  new Counter({
    name: 'http_server_requests_total',
    help: 'HTTP requests served, by method, route template and status code',
    labelNames: LABEL_NAMES,
    registers: [registry],
    collect() {
      this.reset();
      for (const one of series.values()) this.inc(one.labels, one.count);
    },
  });
  const duration = new Histogram({
    name: 'http_server_request_duration_seconds',
    help: 'HTTP request duration in seconds, by method, route template and status code',
    labelNames: LABEL_NAMES,
    buckets: HTTP_DURATION_BUCKETS,
    registers: [registry],
  });
  new Gauge({
    name: 'http_server_requests_in_flight',
    help: 'HTTP requests being served now',
    registers: [registry],
    collect() {
      this.set(inFlightNow);
    },
  });

  const seriesOf = (method: string, route: string, statusCode: string): Series => {
    const key = `${method} ${statusCode} ${route}`;
    let found = series.get(key);
    if (!found) {
      const histogram = duration.labels(method, route, statusCode);
      found = {
        labels: { method, route, status_code: statusCode },
        count: 0,
        observe: (seconds) => histogram.observe(seconds),
      };
      series.set(key, found);
    }
    return found;
  };

  const httpMiddleware: RequestHandler = (req, res, next) => {
    const start = performance.now();
    recordRouteTemplates(req);
    inFlightNow++;
    res.on('close', () => {
      inFlightNow--;
      const route = matchedTemplate(req) ?? routeTemplate(req, res.statusCode);
      const one = seriesOf(req.method, route, String(res.statusCode));
      one.count++;
      one.observe((performance.now() - start) / 1000);
    });
    next();
  };

  const router = express.Router();
  router.get('/metrics', async (_req, res) => {
    res.set('Content-Type', registry.contentType);
    res.send(await registry.metrics());
  });

  return {
    registry,
    httpMiddleware,
    router,
    paths: ['/metrics'],
    observePool(pool) {
      new Gauge({
        name: 'db_pool_connections',
        help: 'PostgreSQL pool connections by state (total, idle, waiting clients)',
        labelNames: ['state'] as const,
        registers: [registry],
        collect() {
          this.set({ state: 'total' }, pool.totalCount);
          this.set({ state: 'idle' }, pool.idleCount);
          this.set({ state: 'waiting' }, pool.waitingCount);
        },
      });
    },
    observeRedis(redis) {
      new Gauge({
        name: 'redis_connected',
        help: '1 when the Redis client is connected and ready, else 0',
        registers: [registry],
        collect() {
          this.set(redis.status === 'ready' ? 1 : 0);
        },
      });
    },
  };
}

const LABEL_NAMES = ['method', 'route', 'status_code'] as const;

/** One label set of the HTTP metrics and its requests so far. */
interface Series {
  readonly labels: Readonly<Record<(typeof LABEL_NAMES)[number], string>>;
  count: number;
  readonly observe: (seconds: number) => void;
}

const ROUTE = Symbol('route');
const TEMPLATE = Symbol('route template');
type Tracked = { [ROUTE]?: unknown; [TEMPLATE]?: string | undefined; baseUrl: string };
const tracked = new WeakSet<object>();

/**
 * Makes `req.route` record the template when Express matches a route (for the metrics' labels and
 * the name of the trace's server span), while `req.baseUrl` is still the mount path of its router: an error thrown there unwinds the routers and resets
 * `baseUrl` before the response finishes. The accessor goes on the app's request prototype, once:
 * defining it on each request made every later property access on the request slow.
 */
function recordRouteTemplates(req: Request): void {
  const proto = Object.getPrototypeOf(req) as object | null;
  if (proto === null || tracked.has(proto)) return;
  tracked.add(proto);
  Object.defineProperty(proto, 'route', {
    configurable: true,
    enumerable: true,
    get(this: Tracked) {
      return this[ROUTE];
    },
    set(this: Tracked, value: unknown) {
      this[ROUTE] = value;
      const template = templateOf(this.baseUrl, value);
      this[TEMPLATE] = template;
      if (template !== undefined) nameServerSpan(template);
    },
  });
}

/**
 * Gives the route template to the request's HTTP server span, when tracing runs: `serverSpans` of
 * `@flotilla/tracing` names the span after it (`GET /users/:id`) and sets `http.route` when the
 * response ends, reading it from the request's RPC metadata as OpenTelemetry's http
 * instrumentation does. This is what the Express instrumentation does, without wrapping every
 * Express layer of every request. With tracing off there is no such span and nothing is done.
 */
function nameServerSpan(route: string): void {
  const metadata = getRPCMetadata(context.active());
  if (metadata?.type === RPCType.HTTP) metadata.route = route;
}

function matchedTemplate(req: Request): string | undefined {
  return (req as unknown as Tracked)[TEMPLATE];
}

/**
 * The matched route template (`/users/:id`), including the mount path of a router. Requests no
 * route matched are labelled `unmatched`, so scanners hitting random URLs add one series, not many.
 */
export function routeTemplate(req: Request, statusCode: number): string {
  return templateOf(req.baseUrl, req.route) ?? (statusCode === 404 ? 'unmatched' : 'unrouted');
}

function templateOf(baseUrl: string, route: unknown): string | undefined {
  if (typeof route !== 'object' || route === null || !('path' in route)) return undefined;
  // A route on several paths (the gateway's `[prefix, prefix/{*rest}]`) is labelled by its first.
  const path: unknown = Array.isArray(route.path) ? route.path[0] : route.path;
  return typeof path === 'string' ? `${baseUrl}${path}` || '/' : undefined;
}
