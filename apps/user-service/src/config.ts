import { adminConfigShape, field, serviceConfigShape, type Config } from '@flotilla/config';
import { faultConfigShape } from '@flotilla/faults';
import { redisConfigShape } from '@flotilla/cache';
import { databaseConfigShape } from '@flotilla/db';
import { z } from 'zod';

export const configSchema = z.object({
  ...serviceConfigShape(3001),
  ...adminConfigShape(3101),
  ...faultConfigShape,
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
  SERVICE_TOKEN_TTL_SECONDS: field.integer(
    300,
    'lifetime of a service (client credentials) token',
    { min: 60, max: 3600 },
  ),
  SERVICE_CLIENTS: z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be a JSON object' });
        return z.NEVER;
      }
    })
    .pipe(
      z.record(
        z.string().regex(/^[a-z][a-z0-9-]{1,62}$/),
        z.string().min(32, 'secrets are at least 32 characters'),
      ),
    )
    .default({})
    .describe('JSON object of service client ids to secrets, for the client credentials grant'),
  PASSWORD_ARGON2_MEMORY_KIB: field.integer(19_456, 'argon2id memory cost in KiB', {
    min: 19_456,
    max: 1_048_576,
  }),
  PASSWORD_ARGON2_PASSES: field.integer(2, 'argon2id passes (time cost)', { min: 2, max: 10 }),
});

export type UserServiceConfig = Config<typeof configSchema>;
