import { trace } from '@opentelemetry/api';
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { createIsoTime } from './iso-time.ts';

/** Fields never written to logs: credentials in headers and bodies, at any depth we log. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-admin-token"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'password',
  'currentPassword',
  'newPassword',
  'token',
  'accessToken',
  'refreshToken',
  'secret',
  'privateKey',
  '*.password',
  '*.currentPassword',
  '*.newPassword',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  '*.secret',
  '*.privateKey',
] as const;

/**
 * How lines reach stdout: gathered up to 4 KiB and written together, and at least every 100 ms,
 * so a busy service makes one write(2) for a dozen lines rather than one each. The writes are
 * synchronous, as Node writes to pipes on Linux: no hop through the thread pool for each batch.
 * Whatever is pending is written when the process exits; a SIGKILL loses at most one batch.
 */
export const STDOUT_BATCH = { minLength: 4096, periodicFlush: 100, sync: true } as const;

export interface LoggerConfig {
  /** Written as `service` on every line. */
  service: string;
  level?: LoggerOptions['level'];
  /**
   * Defaults to stdout, written in batches: see {@link STDOUT_BATCH}. Tests pass a stream to read
   * lines back.
   */
  destination?: DestinationStream;
}

/**
 * A pino logger writing one JSON object per line, with `trace_id` and `span_id` of the active
 * OpenTelemetry span on every line, ISO timestamps, level names and credentials redacted.
 */
export function createLogger({ service, level = 'info', destination }: LoggerConfig): Logger {
  const options: LoggerOptions = {
    level,
    base: { service },
    timestamp: createIsoTime(),
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' },
    mixin() {
      const context = trace.getActiveSpan()?.spanContext();
      return context ? { trace_id: context.traceId, span_id: context.spanId } : {};
    },
  };
  return pino(options, destination ?? sharedStdout());
}

let stdout: ReturnType<typeof pino.destination> | undefined;

/** One batched stdout for every logger of the process, written out when the process exits. */
function sharedStdout() {
  if (!stdout) {
    const stream = pino.destination({ dest: 1, ...STDOUT_BATCH });
    // pino flushes asynchronous destinations on exit by itself, synchronous ones not.
    process.once('exit', () => stream.flushSync());
    stdout = stream;
  }
  return stdout;
}

export type { Logger };
