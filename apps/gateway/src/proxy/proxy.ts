import type { IncomingHttpHeaders } from 'node:http';
import { Transform, pipeline } from 'node:stream';
import { propagation } from '@opentelemetry/api';
import { NOT_FORWARDED_HEADERS } from '@flotilla/http';
import type { Logger } from '@flotilla/logging';
import type { RequestHandler } from 'express';
import { Counter, Histogram, type Registry } from 'prom-client';
import { errors } from '../errors.ts';
import type { RouteSpec } from './routes.ts';
import type { UpstreamRegistry } from './upstreams.ts';

function forwardable(
  headers: IncomingHttpHeaders,
  drop: ReadonlySet<string>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || NOT_FORWARDED_HEADERS.has(name) || drop.has(name)) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** Passes a request body through until it goes over `limit` bytes, then fails as too large. */
function bodyLimit(limit: number): Transform {
  let received = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      received += chunk.length;
      if (received > limit)
        done(Object.assign(new Error('request entity too large'), { type: 'entity.too.large' }));
      else done(null, chunk);
    },
  });
}

export interface ProxyOptions {
  upstreams: UpstreamRegistry;
  versionHeader: string;
  bodyLimitBytes: number;
  registry: Registry;
  logger: Logger;
}

/**
 * Streams a request to a version of the route's service and the answer back. Upstream failures
 * become problem+json: 502 unreachable, 504 timeout, 503 no upstream. Counted per service, version
 * and status in `gateway_upstream_requests_total`, so a canary's success rate can be read here.
 */
export function proxyHandler(route: RouteSpec, options: ProxyOptions): RequestHandler {
  const labels = ['upstream', 'version', 'status_code'] as const;
  const requests =
    (options.registry.getSingleMetric('gateway_upstream_requests_total') as
      Counter<(typeof labels)[number]> | undefined) ??
    new Counter({
      name: 'gateway_upstream_requests_total',
      help: 'Requests proxied, by upstream service, version and status code (502/504 for upstream failures)',
      labelNames: labels,
      registers: [options.registry],
    });
  const duration =
    (options.registry.getSingleMetric('gateway_upstream_request_duration_seconds') as
      Histogram<(typeof labels)[number]> | undefined) ??
    new Histogram({
      name: 'gateway_upstream_request_duration_seconds',
      help: 'Time to the upstream answer headers, by upstream service, version and status code',
      labelNames: labels,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [options.registry],
    });

  // The propagator is set before the app is made (instrumentation.ts), and never changes.
  let traceFields: ReadonlySet<string> | undefined;
  // One pair of children per label set, so a request does not build and check its labels twice.
  const series = new Map<string, { count: () => void; observe: (seconds: number) => void }>();
  const seriesOf = (version: string, status: string) => {
    const key = `${version} ${status}`;
    let found = series.get(key);
    if (!found) {
      const counter = requests.labels(route.service, version, status);
      const histogram = duration.labels(route.service, version, status);
      found = { count: () => counter.inc(), observe: (seconds) => histogram.observe(seconds) };
      series.set(key, found);
    }
    return found;
  };

  return async (req, res, next) => {
    const pinned = req.get(options.versionHeader);
    const target = options.upstreams.pick(route.service, pinned);
    if (!target) {
      next(
        errors.create('NO_UPSTREAM', {
          details: { service: route.service, ...(pinned ? { version: pinned } : {}) },
        }),
      );
      return;
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > options.bodyLimitBytes) {
      next(Object.assign(new Error('request entity too large'), { type: 'entity.too.large' }));
      return;
    }
    // With tracing on, the undici instrumentation writes our own traceparent (a child of this
    // request's span); the caller's must not be sent alongside it. With tracing off, pass it on.
    traceFields ??= new Set(propagation.fields());
    const headers = forwardable(req.headers, traceFields);
    headers['x-forwarded-for'] = [req.headers['x-forwarded-for'], req.socket.remoteAddress]
      .filter(Boolean)
      .join(', ');
    headers['x-forwarded-proto'] = req.protocol;
    if (typeof req.id === 'string') headers['x-request-id'] = req.id;

    const hasBody =
      req.method !== 'GET' &&
      req.method !== 'HEAD' &&
      (declared > 0 || req.headers['transfer-encoding'] !== undefined);
    const upstreamLabel = `${route.service}@${target.version}`;
    const joined = route.upstreamPrefix + req.originalUrl.slice(route.prefix.length);
    const path = joined.startsWith('/') ? joined : `/${joined}`;
    const started = performance.now();
    const count = (status: string) => {
      const series = seriesOf(target.version, status);
      series.count();
      series.observe((performance.now() - started) / 1000);
    };
    let answered = false;
    try {
      // undici writes the answer's body straight into the response: no body stream and no
      // stream.pipeline (with its AbortController) per request.
      await target.pool.stream(
        {
          method: req.method,
          path,
          headers,
          ...(hasBody
            ? { body: pipeline(req, bodyLimit(options.bodyLimitBytes), () => undefined) }
            : {}),
        },
        ({ statusCode, headers: upstreamHeaders }) => {
          answered = true;
          count(String(statusCode));
          res.statusCode = statusCode;
          for (const name in upstreamHeaders) {
            const value = upstreamHeaders[name];
            if (value !== undefined && !NOT_FORWARDED_HEADERS.has(name)) res.setHeader(name, value);
          }
          res.setHeader('x-flotilla-upstream', upstreamLabel);
          return res;
        },
      );
    } catch (err) {
      if (answered) {
        // The status is sent: all that is left is to cut the response short.
        options.logger.warn(
          { err: (err as Error).message, service: route.service },
          'response stream aborted',
        );
        res.destroy();
        return;
      }
      if ((err as { type?: string }).type === 'entity.too.large') {
        next(err);
        return;
      }
      const code = (err as { code?: string }).code ?? '';
      const timedOut =
        code === 'UND_ERR_HEADERS_TIMEOUT' ||
        code === 'UND_ERR_BODY_TIMEOUT' ||
        code === 'UND_ERR_CONNECT_TIMEOUT';
      count(timedOut ? '504' : '502');
      next(
        errors.create(timedOut ? 'UPSTREAM_TIMEOUT' : 'UPSTREAM_UNREACHABLE', {
          cause: err,
          details: { service: route.service, version: target.version },
        }),
      );
    }
  };
}
