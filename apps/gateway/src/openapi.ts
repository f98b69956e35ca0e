import { problemResponse } from '@flotilla/http';
import { Router } from 'express';
import type { RouteSpec } from './proxy/routes.ts';
import type { UpstreamRegistry } from './proxy/upstreams.ts';

type Doc = {
  paths?: Record<string, Record<string, { responses?: Record<string, unknown> }>>;
  components?: { schemas?: Record<string, unknown>; securitySchemes?: Record<string, unknown> };
};

const RETRY_AFTER = {
  'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'string' } },
};

/** What the gateway itself may answer on every route, whatever the service behind it says. */
export const GATEWAY_RESPONSES: Readonly<Record<string, Record<string, unknown>>> = {
  '429': problemResponse(
    'Too many requests from this client or user (RATE_LIMITED); retry after Retry-After',
    RETRY_AFTER,
  ),
  '502': problemResponse('The service could not be reached (UPSTREAM_UNREACHABLE)'),
  '503': problemResponse('No version of the service is available (NO_UPSTREAM)'),
  '504': problemResponse('The service did not answer in time (UPSTREAM_TIMEOUT)'),
};

/**
 * The operation as the gateway serves it: the service's answers, plus the gateway's own. Where
 * both may answer with one status (503), the service's description names both.
 */
function throughGateway(operation: { responses?: Record<string, unknown> }) {
  const responses: Record<string, unknown> = { ...operation.responses };
  for (const [status, response] of Object.entries(GATEWAY_RESPONSES)) {
    const own = responses[status] as { description?: string } | undefined;
    responses[status] = own
      ? {
          ...own,
          description: `${own.description ?? ''}; at the gateway: ${String(response['description'])}`,
        }
      : response;
  }
  return {
    ...operation,
    responses: Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b))),
  };
}

/**
 * `GET /api/openapi.json`: the services' documents merged under the gateway's paths
 * (`/users/{id}` becomes `/api/users/{id}`), each operation with the gateway's own answers
 * (429, 502, 503, 504), fetched from the live upstreams on each call.
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
          if (!route) continue;
          paths[route.prefix + path.slice(route.upstreamPrefix.length)] = Object.fromEntries(
            Object.entries(item).map(([method, operation]) => [method, throughGateway(operation)]),
          );
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
