import { validate } from '@flotilla/http';
import type { Logger } from '@flotilla/logging';
import type { Express } from 'express';
import { z } from 'zod';
import { errors } from './errors.ts';
import { upstreamVersionsSchema, type UpstreamRegistry } from './proxy/upstreams.ts';

const versionsBody = z.strictObject({ versions: upstreamVersionsSchema });

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
