import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '@flotilla/config';
import { createAdminApp } from '@flotilla/http';
import { createLogger } from '@flotilla/logging';
import {
  startTestInfrastructure,
  startTestIssuer,
  type TestInfrastructure,
  type TestIssuer,
} from '@flotilla/testing';
import type { Express } from 'express';
import { upstreamAdminRoutes } from '../src/admin.ts';
import { createApp } from '../src/app.ts';
import { configSchema } from '../src/config.ts';
import { createDependencies, type Dependencies } from '../src/dependencies.ts';

export const ADMIN_TOKEN = 'gateway-admin-token-for-tests-0123456789';

export interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * An upstream at the HTTP boundary: answers every request with JSON naming itself and echoing what
 * it received. `/slow` answers after `slowMs`; `/openapi.json` serves a small document.
 */
export async function startEcho(name: string, { slowMs = 1000 } = {}) {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const answer = () =>
        res
          .writeHead(req.url?.endsWith('/missing') ? 404 : 200, {
            'content-type': 'application/json',
            'x-upstream': name,
          })
          .end(JSON.stringify({ upstream: name, method: req.method, url: req.url, body }));
      if (req.url === '/openapi.json') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            openapi: '3.1.0',
            paths: {
              [`/${name.split('-')[0]}s/{id}`]: { get: { summary: name } },
              '/internal': {},
            },
          }),
        );
      } else if (req.url?.endsWith('/slow')) setTimeout(answer, slowMs);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export type Echo = Awaited<ReturnType<typeof startEcho>>;

export interface GatewayUnderTest {
  app: Express;
  admin: Express;
  deps: Dependencies;
  issuer: TestIssuer;
  infra: TestInfrastructure;
  upstreams: { users: Echo; orders: Echo; payments: Echo };
  token(userId?: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startGateway(env: Record<string, string> = {}): Promise<GatewayUnderTest> {
  const infra = await startTestInfrastructure();
  const issuer = await startTestIssuer();
  const upstreams = {
    users: await startEcho('user-service'),
    orders: await startEcho('order-service'),
    payments: await startEcho('payment-service'),
  };
  const config = loadConfig('gateway', configSchema, {
    REDIS_URL: infra.redisUrl,
    REDIS_KEY_PREFIX: infra.redisKeyPrefix,
    AUTH_JWKS_URL: issuer.jwksUrl,
    USER_SERVICE_URL: upstreams.users.url,
    ORDER_SERVICE_URL: upstreams.orders.url,
    PAYMENT_SERVICE_URL: upstreams.payments.url,
    UPSTREAM_TIMEOUT_MS: '300',
    BODY_LIMIT: '1kb',
    LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent',
    ...env,
  });
  const logger = createLogger({ service: 'gateway', level: config.LOG_LEVEL });
  const deps = await createDependencies(config, logger);
  return {
    app: createApp(deps),
    admin: createAdminApp({
      token: ADMIN_TOKEN,
      logger,
      routes: (app) => {
        deps.faults.adminRoutes(app);
        upstreamAdminRoutes(app, deps);
      },
    }),
    deps,
    issuer,
    infra,
    upstreams,
    token: (userId = crypto.randomUUID()) => issuer.issue({ userId }),
    async stop() {
      for (const resource of [...deps.resources].reverse()) await resource.close();
      for (const echo of Object.values(upstreams)) await echo.stop();
      await issuer.stop();
      await infra.stop();
    },
  };
}
