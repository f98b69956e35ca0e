import { z } from 'zod';

/** Keys of every service that verifies access tokens; spread into the service's schema. */
export const authConfigShape = {
  AUTH_JWKS_URL: z
    .url({ protocol: /^https?$/ })
    .describe("user-service's JWKS, e.g. http://user-service:3001/.well-known/jwks.json"),
  AUTH_ISSUER: z.string().min(1).default('flotilla-user-service').describe('required iss claim'),
  AUTH_AUDIENCE: z.string().min(1).default('flotilla').describe('required aud claim'),
} as const;
