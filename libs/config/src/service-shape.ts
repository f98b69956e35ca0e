import { z } from 'zod';
import { field } from './fields.ts';

/**
 * Keys every HTTP service shares: where it listens, its limits, its logs and its drain. Spread
 * into a service's schema: `z.object({ ...serviceConfigShape(3001), ...ownKeys })`.
 */
export function serviceConfigShape(defaultPort: number) {
  return {
    HOST: z.string().min(1).default('0.0.0.0').describe('interface to listen on'),
    PORT: field.port(defaultPort, 'HTTP port'),
    SERVICE_VERSION: z
      .string()
      .min(1)
      .max(64)
      .default('dev')
      .describe('version reported in traces and the startup log'),
    LOG_LEVEL: field.logLevel(),
    BODY_LIMIT: z
      .string()
      .regex(/^\d+(b|kb|mb)$/, 'a size such as 100kb or 1mb')
      .default('100kb')
      .describe('largest accepted JSON body'),
    HTTP_KEEP_ALIVE_TIMEOUT_MS: field.milliseconds(
      65_000,
      'idle keep-alive timeout; above the load balancer idle timeout',
    ),
    HTTP_REQUEST_TIMEOUT_MS: field.milliseconds(30_000, 'time limit to receive a whole request', {
      min: 1,
    }),
    READINESS_CHECK_TIMEOUT_MS: field.milliseconds(
      1000,
      'time limit of each dependency check in /ready',
      { min: 1 },
    ),
    SHUTDOWN_DRAIN_DELAY_MS: field.milliseconds(
      5000,
      'time between turning unready and closing the listener',
    ),
    HTTP_REUSE_PORT: field.boolean(
      false,
      'listen with SO_REUSEPORT, so that a new process can bind the same port while this one drains',
    ),
    SHUTDOWN_IDLE_GRACE_MS: field.milliseconds(
      2000,
      'after the listener closes, how long idle keep-alive connections may carry one more request (answered with Connection: close)',
    ),
    SHUTDOWN_TIMEOUT_MS: field.milliseconds(
      25_000,
      'hard limit for a graceful shutdown; then exit 1',
      { min: 1 },
    ),
  } as const;
}

/**
 * Keys of a service's admin API (fault flags; traffic weights at the gateway). It listens on its
 * own port, on localhost by default, and is off while `ADMIN_TOKEN` is unset.
 */
export function adminConfigShape(defaultPort: number) {
  return {
    ADMIN_HOST: z
      .string()
      .min(1)
      .default('127.0.0.1')
      .describe('interface of the admin API; keep it local'),
    ADMIN_PORT: field.port(defaultPort, 'admin API port'),
    ADMIN_TOKEN: z
      .string()
      .min(32)
      .optional()
      .describe('bearer token of the admin API (32+ characters); the admin API is off without it'),
  } as const;
}
