import { Router } from 'express';
import type { RouteSpec } from './proxy/routes.ts';
import type { UpstreamRegistry } from './proxy/upstreams.ts';

type Doc = {
  paths?: Record<string, unknown>;
  components?: { schemas?: Record<string, unknown>; securitySchemes?: Record<string, unknown> };
};

/**
 * `GET /api/openapi.json`: the services' documents merged under the gateway's paths
 * (`/users/{id}` becomes `/api/users/{id}`), fetched from the live upstreams on each call.
 */
export function combinedOpenApiRoutes(
  upstreams: UpstreamRegistry,
  routes: readonly RouteSpec[],
): Router {
  const router = Router();
  router.get('/api/openapi.json', async (_req, res) => {
    const paths: Record<string, unknown> = {};
    const schemas: Record<string, unknown> = {};
    const securitySchemes: Record<string, unknown> = {};
    const missing: string[] = [];
    for (const service of [...new Set(routes.map((r) => r.service))]) {
      const target = upstreams.pick(service);
      try {
        if (!target) throw new Error('no upstream');
        const answer = await target.pool.request({ method: 'GET', path: '/openapi.json' });
        if (answer.statusCode !== 200) throw new Error(`status ${answer.statusCode}`);
        const doc = (await answer.body.json()) as Doc;
        for (const [path, item] of Object.entries(doc.paths ?? {})) {
          const route = routes.find(
            (r) =>
              r.service === service &&
              (path === r.upstreamPrefix || path.startsWith(`${r.upstreamPrefix}/`)),
          );
          if (route) paths[route.prefix + path.slice(route.upstreamPrefix.length)] = item;
        }
        Object.assign(schemas, doc.components?.schemas);
        Object.assign(securitySchemes, doc.components?.securitySchemes);
      } catch {
        missing.push(service);
      }
    }
    res.json({
      openapi: '3.1.0',
      info: {
        title: 'Flotilla API',
        version: '1.0.0',
        description:
          missing.length > 0
            ? `Unavailable right now: ${missing.join(', ')}`
            : 'All services through the gateway',
      },
      paths,
      components: { schemas, securitySchemes },
    });
  });
  return router;
}
