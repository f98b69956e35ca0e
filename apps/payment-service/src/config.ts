import { authConfigShape } from '@flotilla/auth';
import { adminConfigShape, field, serviceConfigShape, type Config } from '@flotilla/config';
import { faultConfigShape } from '@flotilla/faults';
import { databaseConfigShape } from '@flotilla/db';
import { z } from 'zod';

export const configSchema = z.object({
  ...serviceConfigShape(3003),
  ...adminConfigShape(3103),
  ...faultConfigShape,
  ...databaseConfigShape,
  ...authConfigShape,
  SANDBOX_SLOW_MS: field.milliseconds(3000, 'how long the sandbox processor takes for tok_slow'),
  IDEMPOTENCY_KEY_TTL_HOURS: field.integer(
    24,
    'how long an Idempotency-Key and its reply are kept',
    { min: 24, max: 24 * 30 },
  ),
  IDEMPOTENCY_PURGE_INTERVAL_MS: field.milliseconds(
    3_600_000,
    'how often expired keys are deleted',
    { min: 1000 },
  ),
});

export type PaymentServiceConfig = Config<typeof configSchema>;
