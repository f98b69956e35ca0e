import { createHash, timingSafeEqual } from 'node:crypto';
import { createServiceApp, validate } from '@flotilla/http';
import type { Logger } from '@flotilla/logging';
import type { Express } from 'express';
import { z } from 'zod';
import { errors } from './errors.ts';
import type { UpstreamRegistry } from './proxy/upstreams.ts';

const versionsBody = z
  .strictObject({
    versions: z
      .array(
        z.strictObject({
          version: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,31}$/),
          url: z.url({ protocol: /^https?$/ }),
          weight: z.number().int().min(0).max(100),
        }),
      )
      .min(1)
      .max(10),
  })
  .refine((b) => new Set(b.versions.map((v) => v.version)).size === b.versions.length, {
    message: 'versions must be unique',
    path: ['versions'],
  })
  .refine((b) => b.versions.some((v) => v.weight > 0), {
    message: 'at least one weight must be above 0',
    path: ['versions'],
  });

const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * The admin API, served on its own port bound to localhost and protected by a bearer token:
 * `GET /admin/upstreams` and `PUT /admin/upstreams/:service {versions: [{version, url, weight}]}`.
 * The deploy kit drives it to shift traffic between versions during a release.
 */
export function createAdminApp({
  upstreams,
  token,
  logger,
}: {
  upstreams: UpstreamRegistry;
  token: string;
  logger: Logger;
}): Express {
  const expected = digest(token);
  return createServiceApp({
    logger,
    bodyLimit: '16kb',
    routes: (app) => {
      app.use('/admin', (req, _res, next) => {
        const given = /^Bearer (.+)$/.exec(req.get('authorization') ?? '')?.[1] ?? '';
        if (!timingSafeEqual(digest(given), expected))
          throw errors.create('ADMIN_UNAUTHORIZED', { headers: { 'WWW-Authenticate': 'Bearer' } });
        next();
      });
      app.get('/admin/upstreams', (_req, res) => {
        res.json(upstreams.services());
      });
      app.put('/admin/upstreams/:service', async (req, res) => {
        const service = String(req.params['service']);
        if (!upstreams.get(service)) throw errors.create('UNKNOWN_SERVICE');
        const { versions } = validate(versionsBody, req.body, 'body');
        await upstreams.set(service, versions);
        logger.info({ service, versions }, 'upstream weights changed');
        res.json({ service, versions: upstreams.get(service) });
      });
    },
  });
}
