import { field, serviceConfigShape, type Config } from '@flotilla/config';
import { redisConfigShape } from '@flotilla/cache';
import { databaseConfigShape } from '@flotilla/db';
import { z } from 'zod';

export const configSchema = z.object({
  ...serviceConfigShape(3001),
  ...databaseConfigShape,
  ...redisConfigShape,
  REDIS_KEY_PREFIX: z
    .string()
    .min(1)
    .max(64)
    .default('user-service:')
    .describe('prefix of every Redis key'),
  PROFILE_CACHE_TTL_SECONDS: field.integer(
    60,
    'how long a profile stays cached; bounds staleness',
    { min: 1, max: 86_400 },
  ),
  JWT_PRIVATE_KEY: z
    .string()
    .includes('PRIVATE KEY', { message: 'a PKCS#8 PEM private key (P-256 / ES256)' })
    .optional()
    .describe(
      'PKCS#8 PEM of the ES256 signing key; a throwaway key is generated (with a warning) when unset',
    ),
  JWT_KEY_ID: z
    .string()
    .min(1)
    .max(128)
    .optional()
    .describe('kid of the signing key; defaults to its JWK thumbprint'),
  JWT_ISSUER: z
    .string()
    .min(1)
    .default('flotilla-user-service')
    .describe('iss claim of issued tokens'),
  JWT_AUDIENCE: z.string().min(1).default('flotilla').describe('aud claim of issued tokens'),
  ACCESS_TOKEN_TTL_SECONDS: field.integer(900, 'lifetime of an access token', {
    min: 60,
    max: 86_400,
  }),
  PASSWORD_ARGON2_MEMORY_KIB: field.integer(19_456, 'argon2id memory cost in KiB', {
    min: 19_456,
    max: 1_048_576,
  }),
  PASSWORD_ARGON2_PASSES: field.integer(2, 'argon2id passes (time cost)', { min: 2, max: 10 }),
});

export type UserServiceConfig = Config<typeof configSchema>;
