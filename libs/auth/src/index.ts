export {
  ROLES,
  bearerToken,
  createJwksVerifier,
  principalFromClaims,
  principalOf,
  requireAuth,
  type JwksVerifierOptions,
  type Principal,
  type Role,
  type TokenVerifier,
} from './auth.ts';
export { authConfigShape } from './config.ts';
export {
  DEFAULT_VERIFIED_TOKEN_CACHE,
  cachingVerifier,
  type VerifiedTokenCacheOptions,
} from './verified-tokens.ts';
