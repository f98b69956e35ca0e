import { authConfigShape } from '@flotilla/auth';
import { adminConfigShape, field, serviceConfigShape, type Config } from '@flotilla/config';
import { faultConfigShape } from '@flotilla/faults';
import { databaseConfigShape } from '@flotilla/db';
import { z } from 'zod';

export const configSchema = z.object({
  ...serviceConfigShape(3002),
  ...adminConfigShape(3102),
  ...faultConfigShape,
  ...databaseConfigShape,
  ...authConfigShape,
  USER_SERVICE_URL: z.url({ protocol: /^https?$/ }).describe('base URL of user-service'),
  PAYMENT_SERVICE_URL: z.url({ protocol: /^https?$/ }).describe('base URL of payment-service'),
  SERVICE_CLIENT_ID: z
    .string()
    .min(1)
    .default('order-service')
    .describe('client id for the client credentials grant'),
  SERVICE_CLIENT_SECRET: z
    .string()
    .min(32)
    .describe("order-service's client secret at user-service"),
  UPSTREAM_TIMEOUT_MS: field.milliseconds(2000, 'per-attempt timeout of calls to user-service', {
    min: 1,
  }),
  PAYMENT_TIMEOUT_MS: field.milliseconds(5000, 'per-attempt timeout of calls to payment-service', {
    min: 1,
  }),
  UPSTREAM_MAX_ATTEMPTS: field.integer(
    3,
    'attempts per call, the first included (safe requests only)',
    { min: 1, max: 10 },
  ),
  BREAKER_THRESHOLD: z.coerce
    .number()
    .min(0.01)
    .max(1)
    .default(0.5)
    .describe('failure ratio that opens a circuit'),
  BREAKER_SAMPLING_MS: field.milliseconds(
    10_000,
    'window over which the failure ratio is measured',
    { min: 100 },
  ),
  BREAKER_MIN_RPS: z.coerce
    .number()
    .min(0)
    .max(10_000)
    .default(0.5)
    .describe('volume threshold: below this rate a circuit never opens'),
  BREAKER_HALF_OPEN_AFTER_MS: field.milliseconds(
    5000,
    'open circuit duration before a trial request',
    { min: 1 },
  ),
  RECOVERY_INTERVAL_MS: field.milliseconds(2000, 'how often pending orders are resumed', {
    min: 10,
  }),
  PAYMENT_LEASE_MS: field.milliseconds(20_000, 'how long a payment attempt owns a pending order', {
    min: 10,
  }),
  RECOVERY_GIVE_UP_AFTER_MS: field.milliseconds(
    900_000,
    'pending orders older than this are cancelled when payment stays unreachable',
    { min: 10, max: 7 * 86_400_000 },
  ),
});

export type OrderServiceConfig = Config<typeof configSchema>;
