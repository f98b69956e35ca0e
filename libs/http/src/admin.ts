import { createHash, timingSafeEqual } from 'node:crypto';
import type { Express } from 'express';
import type { Logger } from 'pino';
import { createServiceApp } from './app.ts';
import { defineErrors } from './errors.ts';

const adminErrors = defineErrors({
  ADMIN_UNAUTHORIZED: { status: 401, message: 'A valid admin token is required.' },
});

const digest = (text: string) => createHash('sha256').update(text).digest();

/** Tells whether a given secret equals `token`, in constant time (digests of equal length). */
export function tokenMatcher(token: string): (given: string) => boolean {
  const expected = digest(token);
  return (given) => timingSafeEqual(digest(given), expected);
}

export interface AdminAppOptions {
  /** Bearer token every `/admin` request must carry; compared in constant time. */
  token: string;
  logger: Logger;
  /** Adds the admin routes, all under `/admin`. */
  routes: (app: Express) => void;
}

/**
 * The app of a service's admin API: the kit's middleware, a bearer-token guard on `/admin`, then
 * the given routes. Serve it on its own port bound to localhost (`ADMIN_HOST`/`ADMIN_PORT`), never
 * on the public one.
 */
export function createAdminApp({ token, logger, routes }: AdminAppOptions): Express {
  const matches = tokenMatcher(token);
  return createServiceApp({
    logger,
    bodyLimit: '16kb',
    routes: (app) => {
      app.use('/admin', (req, _res, next) => {
        const given = /^Bearer (.+)$/.exec(req.get('authorization') ?? '')?.[1] ?? '';
        if (!matches(given))
          throw adminErrors.create('ADMIN_UNAUTHORIZED', {
            headers: { 'WWW-Authenticate': 'Bearer' },
          });
        next();
      });
      routes(app);
    },
  });
}
