import { register } from 'node:module';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  CompositePropagator,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type Sampler,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { z } from 'zod';

const tracingEnvSchema = z.object({
  OTEL_EXPORTER_OTLP_ENDPOINT: z
    .url()
    .optional()
    .describe('OTLP/HTTP base URL; traces are exported only when set'),
  OTEL_SDK_DISABLED: z.stringbool().default(false).describe('turns tracing off entirely'),
  OTEL_TRACES_SAMPLER: z
    .enum([
      'always_on',
      'always_off',
      'traceidratio',
      'parentbased_always_on',
      'parentbased_always_off',
      'parentbased_traceidratio',
    ])
    .default('parentbased_always_on')
    .describe('which requests are traced (the OpenTelemetry names); every one by default'),
  OTEL_TRACES_SAMPLER_ARG: z.coerce
    .number()
    .min(0)
    .max(1)
    .optional()
    .describe('the share of traces the *traceidratio samplers keep, 0 to 1 (default 1)'),
});

type TracingEnv = z.infer<typeof tracingEnvSchema>;

/**
 * The sampler `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG` name, as the OpenTelemetry
 * specification defines them. A parent-based sampler follows the caller's decision, so a trace
 * is kept or dropped whole across the services; its root decides for a request without one.
 */
export function samplerOf(
  env: Pick<TracingEnv, 'OTEL_TRACES_SAMPLER' | 'OTEL_TRACES_SAMPLER_ARG'>,
): Sampler {
  const ratio = () => new TraceIdRatioBasedSampler(env.OTEL_TRACES_SAMPLER_ARG ?? 1);
  switch (env.OTEL_TRACES_SAMPLER) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return ratio();
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: ratio() });
  }
}

export interface TracingOptions {
  serviceName: string;
  serviceVersion?: string;
  /**
   * Defaults to `process.env`: OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SDK_DISABLED, OTEL_TRACES_SAMPLER,
   * OTEL_TRACES_SAMPLER_ARG.
   */
  env?: NodeJS.ProcessEnv;
  /** Replaces the OTLP export, e.g. with an in-memory exporter in tests. */
  spanProcessors?: SpanProcessor[];
  /** Where a bad setting is reported; tracing then falls back to a no-op. */
  warn?: (message: string) => void;
}

export interface Tracing {
  /** True when an SDK runs (an exporter or span processors are configured). */
  readonly enabled: boolean;
  /** Flushes pending spans and stops the SDK. */
  shutdown(): Promise<void>;
}

let active: Tracing | undefined;

/**
 * Starts the OpenTelemetry SDK with the instrumentations the services use (outgoing http, pg,
 * ioredis, undici), W3C trace context and batched OTLP/HTTP export. Call it from an app's
 * `instrumentation.ts`, loaded with `node --import` before anything else. A bad setting warns and
 * leaves tracing as a no-op: telemetry never stops a service from starting. Server spans come
 * from `serverSpans` around each server's request listener (`@flotilla/runtime` does it).
 */
export function startTracing(options: TracingOptions): Tracing {
  if (active) return active;
  const warn = options.warn ?? ((message: string) => process.stderr.write(`${message}\n`));
  const parsed = tracingEnvSchema.safeParse(options.env ?? process.env);
  if (!parsed.success) {
    const keys = parsed.error.issues.map((issue) => issue.path.join('.')).join(', ');
    warn(`tracing disabled: invalid setting(s) ${keys}: ${parsed.error.message}`);
    return (active = noopTracing);
  }
  const env = parsed.data;
  const spanProcessors =
    options.spanProcessors ??
    (env.OTEL_EXPORTER_OTLP_ENDPOINT
      ? [
          new BatchSpanProcessor({
            exporter: new OTLPTraceExporter({
              url: new URL('v1/traces', withSlash(env.OTEL_EXPORTER_OTLP_ENDPOINT)).toString(),
            }),
          }),
        ]
      : []);
  if (env.OTEL_SDK_DISABLED || spanProcessors.length === 0) return (active = noopTracing);

  try {
    // ESM modules are instrumented through import-in-the-middle's loader hook.
    register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
    // The pieces of the OpenTelemetry Node SDK that traces need, wired by hand: sdk-node would
    // also pull in every metric, log, gRPC and Zipkin exporter, which the images do not ship.
    const contextManager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(contextManager);
    propagation.setGlobalPropagator(
      new CompositePropagator({
        propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
      }),
    );
    const provider = new TracerProvider({
      resource: resourceFromAttributes({
        [ATTR_SERVICE_NAME]: options.serviceName,
        ...(options.serviceVersion ? { [ATTR_SERVICE_VERSION]: options.serviceVersion } : {}),
      }),
      spanProcessors,
      sampler: samplerOf(env),
    });
    trace.setGlobalTracerProvider(provider);
    const unregister = registerInstrumentations({
      tracerProvider: provider,
      instrumentations: [
        // Outgoing node:http requests only: the server spans are made by `serverSpans`, around
        // each server's request listener, at a third of the cost per request.
        new HttpInstrumentation({ disableIncomingRequestInstrumentation: true }),
        // No Express instrumentation: it wraps every layer of every request, which cost more
        // than the rest of tracing together, even with no spans made for middlewares and
        // routers. The kit names the HTTP server span after the matched route instead
        // (`@flotilla/metrics`, where Express matches a route).
        new PgInstrumentation({ requireParentSpan: true }),
        new IORedisInstrumentation({ requireParentSpan: true }),
        new UndiciInstrumentation(),
      ],
    });
    const shutdown = async () => {
      unregister();
      await provider.shutdown();
      contextManager.disable();
    };
    return (active = { enabled: true, shutdown });
  } catch (err) {
    warn(`tracing disabled: the SDK failed to start: ${(err as Error).message}`);
    return (active = noopTracing);
  }
}

/** True once {@link startTracing} has started an SDK in this process. */
export function tracingEnabled(): boolean {
  return active?.enabled ?? false;
}

/** Flushes and stops whatever {@link startTracing} started; safe to call when nothing was. */
export async function shutdownTracing(): Promise<void> {
  await active?.shutdown();
}

const noopTracing: Tracing = { enabled: false, shutdown: () => Promise.resolve() };

function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}
