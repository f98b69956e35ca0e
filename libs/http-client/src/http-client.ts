import { setTimeout as sleepFor } from 'node:timers/promises';
import { AppError } from '@flotilla/http';
import {
  BrokenCircuitError,
  CircuitState,
  SamplingBreaker,
  circuitBreaker,
  handleAll,
  type CircuitBreakerPolicy,
} from 'cockatiel';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { Pool } from 'undici';

/** Methods that may be repeated without changing the outcome (RFC 9110, section 9.2.2). */
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);
/** Statuses that say "try again" rather than "you are wrong". */
const RETRYABLE_STATUSES = new Set([502, 503, 504]);
const CIRCUIT_STATE_NAMES = new Map<CircuitState, string>([
  [CircuitState.Closed, 'closed'],
  [CircuitState.Open, 'open'],
  [CircuitState.HalfOpen, 'half-open'],
]);
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface HttpClientOptions {
  /** The upstream's name, used in metrics and errors: `payment-service`. */
  upstream: string;
  /**
   * Where the upstream is: an origin (`http://payment-service:3003`) or an origin with a path
   * prefix that every request path is appended to (`http://127.0.0.1:8082/payment-service`, a mesh
   * or gateway route).
   */
  baseUrl: string;
  /** Limit of one attempt, from sending to the whole body received. */
  timeoutMs: number;
  /** Attempts in all, the first included; retries happen only for idempotent or keyed requests. */
  maxAttempts: number;
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  breaker: {
    /** Failure ratio (0..1) over the sampling window that opens the circuit. */
    threshold: number;
    samplingDurationMs: number;
    /** Volume threshold: below this request rate over the window the circuit never opens. */
    minimumRps: number;
    /** Time the circuit stays open before a trial request is let through. */
    halfOpenAfterMs: number;
  };
  /** Keep-alive pool size to this upstream. */
  connections: number;
  keepAliveTimeoutMs: number;
  /** Client metrics are registered here. */
  registry: Registry;
  /**
   * Whether an answer means the upstream is failing: counted by the breaker and, for 502/503/504,
   * retried. Defaults to any 5xx; a caller can exempt definitive answers (a 502 that a retry would
   * only replay, say).
   */
  isFailure?: (response: ClientResponse) => boolean;
  sleep?: (ms: number) => Promise<unknown>;
  random?: () => number;
}

export interface ClientRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as `Idempotency-Key`; makes a POST safe to retry. */
  idempotencyKey?: string;
}

export interface ClientResponse<T = unknown> {
  status: number;
  headers: Record<string, string>;
  /** Parsed JSON, or undefined for an empty or non-JSON body. */
  body: T;
}

/** Thrown when the upstream cannot be reached: circuit open, timeout or connection failure. */
export class UpstreamUnavailableError extends AppError {
  readonly upstream: string;
  readonly reason: 'circuit_open' | 'timeout' | 'connection';

  constructor(upstream: string, reason: UpstreamUnavailableError['reason'], cause?: unknown) {
    super(
      'UPSTREAM_UNAVAILABLE',
      `${upstream} is unavailable (${reason.replace('_', ' ')}).`,
      503,
      {
        cause,
        details: { upstream, reason },
        expose: true,
      },
    );
    this.name = 'UpstreamUnavailableError';
    this.upstream = upstream;
    this.reason = reason;
  }
}

export interface HttpClient {
  request<T = unknown>(request: ClientRequest): Promise<ClientResponse<T>>;
  /** `closed`, `open` or `half-open`. */
  readonly circuitState: string;
  close(): Promise<void>;
}

/** A 5xx answer: counted as a failure by the breaker, maybe retried, else handed back. */
class RetryableStatus extends Error {
  readonly response: ClientResponse;

  constructor(response: ClientResponse) {
    super(`upstream answered ${response.status}`);
    this.response = response;
  }
}

function metricsFor(registry: Registry) {
  const labelNames = ['upstream', 'method', 'status_code'] as const;
  return {
    requests:
      (registry.getSingleMetric('http_client_requests_total') as
        Counter<(typeof labelNames)[number]> | undefined) ??
      new Counter({
        name: 'http_client_requests_total',
        help: 'Outgoing HTTP attempts by upstream, method and status code (or error kind)',
        labelNames,
        registers: [registry],
      }),
    duration:
      (registry.getSingleMetric('http_client_request_duration_seconds') as
        Histogram<(typeof labelNames)[number]> | undefined) ??
      new Histogram({
        name: 'http_client_request_duration_seconds',
        help: 'Outgoing HTTP attempt duration in seconds',
        labelNames,
        buckets: DURATION_BUCKETS,
        registers: [registry],
      }),
    circuit:
      (registry.getSingleMetric('http_client_circuit_open') as Gauge<'upstream'> | undefined) ??
      new Gauge({
        name: 'http_client_circuit_open',
        help: '1 while the circuit breaker to the upstream is open or half-open, else 0',
        labelNames: ['upstream'] as const,
        registers: [registry],
      }),
  };
}

/**
 * A resilient JSON client for one upstream: a keep-alive undici pool, a timeout per attempt,
 * retries with exponential backoff and full jitter for idempotent methods and requests with an
 * `Idempotency-Key` only, and a circuit breaker (cockatiel) that fails fast with
 * {@link UpstreamUnavailableError} while the upstream is failing. Trace context is propagated by
 * the OpenTelemetry undici instrumentation. Every attempt is counted in
 * `http_client_requests_total` and timed in `http_client_request_duration_seconds`.
 */
export function createHttpClient(options: HttpClientOptions): HttpClient {
  const sleep = options.sleep ?? sleepFor;
  const random = options.random ?? Math.random;
  const isFailure = options.isFailure ?? ((response: ClientResponse) => response.status >= 500);
  const metrics = metricsFor(options.registry);
  const base = new URL(options.baseUrl);
  const pathPrefix = base.pathname.replace(/\/+$/, '');
  const pool = new Pool(base.origin, {
    connections: options.connections,
    keepAliveTimeout: options.keepAliveTimeoutMs,
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
  });
  const breaker: CircuitBreakerPolicy = circuitBreaker(handleAll, {
    halfOpenAfter: options.breaker.halfOpenAfterMs,
    breaker: new SamplingBreaker({
      threshold: options.breaker.threshold,
      duration: options.breaker.samplingDurationMs,
      minimumRps: options.breaker.minimumRps,
    }),
  });
  metrics.circuit.set({ upstream: options.upstream }, 0);
  breaker.onStateChange((state) => {
    metrics.circuit.set({ upstream: options.upstream }, state === CircuitState.Closed ? 0 : 1);
  });

  async function attempt(request: ClientRequest): Promise<ClientResponse> {
    const method = request.method.toUpperCase();
    const stopTimer = metrics.duration.startTimer({ upstream: options.upstream, method });
    let statusLabel = 'error';
    try {
      const res = await pool.request({
        method,
        path: pathPrefix + request.path,
        headers: {
          accept: 'application/json',
          ...(request.body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(request.idempotencyKey ? { 'idempotency-key': request.idempotencyKey } : {}),
          ...request.headers,
        },
        ...(request.body !== undefined ? { body: JSON.stringify(request.body) } : {}),
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      const text = await res.body.text();
      statusLabel = String(res.statusCode);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(res.headers)) {
        if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
      }
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = undefined;
      }
      const response = { status: res.statusCode, headers, body };
      if (isFailure(response)) throw new RetryableStatus(response);
      return response;
    } catch (err) {
      if (!(err instanceof RetryableStatus)) statusLabel = isTimeout(err) ? 'timeout' : 'error';
      throw err;
    } finally {
      metrics.requests.inc({ upstream: options.upstream, method, status_code: statusLabel });
      stopTimer({ status_code: statusLabel });
    }
  }

  async function request<T>(req: ClientRequest): Promise<ClientResponse<T>> {
    const retryable =
      IDEMPOTENT_METHODS.has(req.method.toUpperCase()) || Boolean(req.idempotencyKey);
    const attempts = retryable ? options.maxAttempts : 1;
    let lastError: unknown;
    for (let n = 1; n <= attempts; n++) {
      try {
        return (await breaker.execute(() => attempt(req))) as ClientResponse<T>;
      } catch (err) {
        lastError = err;
        if (err instanceof BrokenCircuitError)
          throw new UpstreamUnavailableError(options.upstream, 'circuit_open', err);
        const again =
          n < attempts &&
          (!(err instanceof RetryableStatus) || RETRYABLE_STATUSES.has(err.response.status));
        if (!again) break;
        // Exponential backoff with full jitter (AWS Architecture Blog, 2015).
        const cap = Math.min(options.retryMaxDelayMs, options.retryBaseDelayMs * 2 ** (n - 1));
        await sleep(Math.round(random() * cap));
      }
    }
    if (lastError instanceof RetryableStatus) return lastError.response as ClientResponse<T>;
    throw new UpstreamUnavailableError(
      options.upstream,
      isTimeout(lastError) ? 'timeout' : 'connection',
      lastError,
    );
  }

  return {
    request,
    get circuitState() {
      return CIRCUIT_STATE_NAMES.get(breaker.state) ?? 'isolated';
    },
    close: () => pool.close(),
  };
}

function isTimeout(err: unknown): boolean {
  const e = err as { name?: string; code?: string } | undefined;
  return (
    e?.name === 'TimeoutError' ||
    e?.code === 'UND_ERR_HEADERS_TIMEOUT' ||
    e?.code === 'UND_ERR_BODY_TIMEOUT' ||
    e?.code === 'UND_ERR_CONNECT_TIMEOUT'
  );
}
