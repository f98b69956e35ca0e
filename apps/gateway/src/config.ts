import { authConfigShape } from '@flotilla/auth';
import { redisConfigShape } from '@flotilla/cache';
import { adminConfigShape, field, serviceConfigShape, type Config } from '@flotilla/config';
import { faultConfigShape } from '@flotilla/faults';
import { z } from 'zod';
import { upstreamVersionsSchema } from './proxy/upstreams.ts';

/** The services behind the gateway, each with a `<NAME>_SERVICE_URL`. */
export const UPSTREAM_SERVICES = ['user-service', 'order-service', 'payment-service'] as const;

const serviceUrl = (name: string) =>
  z.url({ protocol: /^https?$/ }).describe(`base URL of ${name} (version v1)`);

export const configSchema = z.object({
  ...serviceConfigShape(8080),
  ...adminConfigShape(8081),
  ...faultConfigShape,
  ...redisConfigShape,
  ...authConfigShape,
  REDIS_KEY_PREFIX: z
    .string()
    .min(1)
    .max(64)
    .default('gateway:')
    .describe('prefix of every Redis key'),
  USER_SERVICE_URL: serviceUrl('user-service'),
  ORDER_SERVICE_URL: serviceUrl('order-service'),
  PAYMENT_SERVICE_URL: serviceUrl('payment-service'),
  UPSTREAMS: z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'not valid JSON' });
        return z.NEVER;
      }
    })
    .pipe(z.partialRecord(z.enum(UPSTREAM_SERVICES), upstreamVersionsSchema))
    .optional()
    .describe(
      'versions and weights to start with, as JSON {"<service>": [{version, url, weight}]}; ' +
        'replaces the v1 of each *_SERVICE_URL it names (a new gateway process taking over a release)',
    ),
  MESH_PORT: z.coerce
    .number()
    .int()
    .min(1)
    .max(65_535)
    .optional()
    .describe(
      'port of the mesh listener, off when unset: service-to-service calls, /<service>/<path>, ' +
        'split by the same weights as the public routes',
    ),
  MESH_HOST: z
    .string()
    .min(1)
    .default('127.0.0.1')
    .describe('interface of the mesh listener; keep it inside the network of the services'),
  UPSTREAM_TIMEOUT_MS: field.milliseconds(
    10_000,
    'time an upstream has to answer and send its body',
    { min: 1 },
  ),
  UPSTREAM_CONNECTIONS: field.integer(64, 'keep-alive connections per upstream version', {
    min: 1,
    max: 1024,
  }),
  VERSION_HEADER: z
    .string()
    .regex(/^[a-z0-9-]+$/)
    .default('x-flotilla-version')
    .describe('request header that pins an upstream version'),
  RATE_LIMIT_CLIENT_PER_MINUTE: field.integer(600, 'requests a client (IP) may make per minute', {
    min: 1,
  }),
  RATE_LIMIT_USER_PER_MINUTE: field.integer(
    300,
    'requests a user (token subject) may make per minute',
    { min: 1 },
  ),
  RATE_LIMIT_BURST: field.integer(50, 'requests allowed at once above the steady rate', { min: 1 }),
  TRUST_PROXY: field.boolean(
    false,
    'take the client IP from X-Forwarded-For (behind a load balancer)',
  ),
});

export type GatewayConfig = Config<typeof configSchema>;
