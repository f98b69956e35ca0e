import { validate } from '@flotilla/http';
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

/**
 * The gateway's admin routes, served by `runService` on the admin port behind its token beside
 * `/admin/faults`: `GET /admin/upstreams` and `PUT /admin/upstreams/:service {versions: [{version,
 * url, weight}]}`. The deploy kit drives them to shift traffic between versions during a release.
 */
export function upstreamAdminRoutes(
  app: Express,
  { upstreams, logger }: { upstreams: UpstreamRegistry; logger: Logger },
): void {
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
}
