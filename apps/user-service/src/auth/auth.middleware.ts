import { commonErrors } from '@flotilla/http';
import type { RequestHandler } from 'express';
import type { Principal, TokenService } from './tokens.ts';

declare module 'express-serve-static-core' {
  interface Request {
    /** Set by {@link requireAuth} from a verified bearer token. */
    principal?: Principal;
  }
}

const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/;
const CHALLENGE = { 'WWW-Authenticate': 'Bearer' };

/** Requires a valid bearer token and sets `req.principal`; 401 otherwise. */
export function requireAuth(tokens: TokenService): RequestHandler {
  return async (req, _res, next) => {
    const header = req.get('authorization');
    if (!header) throw commonErrors.create('UNAUTHENTICATED', { headers: CHALLENGE });
    const match = BEARER.exec(header);
    if (!match?.[1]) throw commonErrors.create('TOKEN_INVALID', { headers: CHALLENGE });
    try {
      req.principal = await tokens.verify(match[1]);
    } catch (err) {
      throw commonErrors.create('TOKEN_INVALID', { cause: err, headers: CHALLENGE });
    }
    next();
  };
}

/** The principal set by {@link requireAuth}; a programming error if the route forgot it. */
export function principalOf(req: { principal?: Principal }): Principal {
  if (!req.principal) throw new Error('route is missing requireAuth');
  return req.principal;
}
