import { UPSTREAM_POOL, type Fixture } from './fixture.ts';

/** One side of a pair: what wrk loads. */
export interface Target {
  label: string;
  url: string;
  headers?: Record<string, string>;
  /** The processes that serve it, whose CPU time per request is measured. */
  pids: number[];
}

/** A throughput goal is a least ratio of req/s (A / B); a latency goal a most added p99. */
export type Goal =
  { kind: 'ratio'; min: number; stretch?: number } | { kind: 'added-p99'; maxMs: number };

export interface Pair {
  /** The side under test. */
  a: Target;
  /** The reference it is compared with. */
  b: Target;
  /** For a latency pair: pid of the proxy and port of its upstream, whose sockets are counted. */
  pool?: { pid: number; upstreamPort: number; size: number };
  /** A logs a line per request: counted, so a request log that silently stops fails the run. */
  loggedRequests?: () => number;
}

export interface Scenario {
  id: string;
  title: string;
  /** `throughput`: both sides as fast as they go; `latency`: both paced at half of A's maximum. */
  mode: 'throughput' | 'latency';
  goal?: Goal;
  pair(fixture: Fixture): Promise<Pair>;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** `GET /users/me` on a traced user-service (every trace, or the share `ratio`) / an untraced one. */
async function tracedAgainstUntraced(f: Fixture, label: string, ratio?: number): Promise<Pair> {
  const [traced, users] = [await f.tracedUserService(ratio), await f.userService()];
  const redis = await f.redisPids();
  const side = (url: string, pid: number) => ({
    url: `${url}/users/me`,
    headers: bearer(users.token),
    pids: [pid, ...redis],
  });
  return {
    a: { label, ...side(traced.url, traced.proc.pid) },
    b: { label: 'untraced', ...side(users.url, users.proc.pid) },
  };
}

/** `GET /api/users/me` through two proxies in front of the same user-service. */
async function proxiedPair(
  f: Fixture,
  users: { token: string; proc: { pid: number } },
  a: { label: string; url: string; pid: number },
  b: { label: string; url: string; pid: number },
): Promise<Pair> {
  const upstream = [users.proc.pid, ...(await f.redisPids())];
  const side = ({ label, url, pid }: typeof a): Target => ({
    label,
    url: `${url}/api/users/me`,
    headers: bearer(users.token),
    pids: [pid, ...upstream],
  });
  return { a: side(a), b: side(b) };
}

export const SCENARIOS: readonly Scenario[] = [
  {
    id: 'express',
    title: 'bare Express 5 / raw node:http, GET /hello (the framework alone)',
    mode: 'throughput',
    async pair(f) {
      const [express, raw] = [await f.server('express'), await f.server('raw')];
      return {
        a: { label: 'express', url: `${express.url}/hello`, pids: [express.proc.pid] },
        b: { label: 'node:http', url: `${raw.url}/hello`, pids: [raw.proc.pid] },
      };
    },
  },
  {
    id: 'kit-route',
    title:
      'a trivial route through createServiceApp / bare Express (logging at info, metrics, faults)',
    mode: 'throughput',
    goal: { kind: 'ratio', min: 0.75 },
    async pair(f) {
      const [kit, express] = [await f.server('kit'), await f.server('express')];
      return {
        a: { label: 'kit', url: `${kit.url}/hello`, pids: [kit.proc.pid] },
        b: { label: 'express', url: `${express.url}/hello`, pids: [express.proc.pid] },
        loggedRequests: () => kit.proc.loggedRequests(),
      };
    },
  },
  {
    id: 'kit-health',
    title: "user-service's GET /health (build output) / bare Express",
    mode: 'throughput',
    goal: { kind: 'ratio', min: 0.75 },
    async pair(f) {
      const [users, express] = [await f.userService(), await f.server('express')];
      return {
        a: { label: 'user-service', url: `${users.url}/health`, pids: [users.proc.pid] },
        b: { label: 'express', url: `${express.url}/health`, pids: [express.proc.pid] },
      };
    },
  },
  {
    id: 'users-me',
    title: 'user-service GET /users/me (token check, cached profile) / its own GET /health',
    mode: 'throughput',
    goal: { kind: 'ratio', min: 0.5 },
    async pair(f) {
      const users = await f.userService();
      const pids = [users.proc.pid, ...(await f.redisPids())];
      return {
        a: { label: '/users/me', url: `${users.url}/users/me`, headers: bearer(users.token), pids },
        b: { label: '/health', url: `${users.url}/health`, pids },
        loggedRequests: () => users.proc.loggedRequests(),
      };
    },
  },
  {
    id: 'gateway',
    title: 'GET /api/users/me through the gateway / through nginx proxy_pass, same upstream',
    mode: 'throughput',
    goal: { kind: 'ratio', min: 0.8, stretch: 1 },
    async pair(f) {
      const [gateway, nginx, users] = [await f.gateway(), await f.nginx(), await f.userService()];
      return {
        ...(await proxiedPair(
          f,
          users,
          { label: 'gateway', url: gateway.url, pid: gateway.proc.pid },
          { label: 'nginx', url: nginx.url, pid: nginx.proc.pid },
        )),
        loggedRequests: () => gateway.proc.loggedRequests(),
      };
    },
  },
  {
    id: 'node-proxy',
    title:
      'GET /api/users/me through a bare Node proxy (node:http and an undici pool, nothing else) / through nginx',
    mode: 'throughput',
    async pair(f) {
      const [proxy, nginx, users] = [await f.nodeProxy(), await f.nginx(), await f.userService()];
      return proxiedPair(
        f,
        users,
        {
          label: 'node proxy',
          url: proxy.url,
          pid: proxy.proc.pid,
        },
        { label: 'nginx', url: nginx.url, pid: nginx.proc.pid },
      );
    },
  },
  {
    id: 'gateway-node',
    title: 'GET /api/users/me through the gateway / through the bare Node proxy, same upstream',
    mode: 'throughput',
    async pair(f) {
      const [gateway, proxy, users] = [
        await f.gateway(),
        await f.nodeProxy(),
        await f.userService(),
      ];
      return {
        ...(await proxiedPair(
          f,
          users,
          { label: 'gateway', url: gateway.url, pid: gateway.proc.pid },
          { label: 'node proxy', url: proxy.url, pid: proxy.proc.pid },
        )),
        loggedRequests: () => gateway.proc.loggedRequests(),
      };
    },
  },
  {
    id: 'gateway-latency',
    title: "p99 added by the gateway over the direct call, both at half the gateway's maximum rate",
    mode: 'latency',
    goal: { kind: 'added-p99', maxMs: 1.5 },
    async pair(f) {
      const [gateway, users] = [await f.gateway(), await f.userService()];
      const upstream = [users.proc.pid, ...(await f.redisPids())];
      return {
        a: {
          label: 'gateway',
          url: `${gateway.url}/api/users/me`,
          headers: bearer(users.token),
          pids: [gateway.proc.pid, ...upstream],
        },
        b: {
          label: 'direct',
          url: `${users.url}/users/me`,
          headers: bearer(users.token),
          pids: upstream,
        },
        pool: {
          pid: gateway.proc.pid,
          upstreamPort: Number(new URL(gateway.upstream).port),
          size: UPSTREAM_POOL,
        },
      };
    },
  },
  {
    id: 'tracing',
    title: 'user-service GET /users/me traced (all sampled, OTLP/HTTP to a local sink) / untraced',
    mode: 'throughput',
    goal: { kind: 'ratio', min: 0.9 },
    pair: (f) => tracedAgainstUntraced(f, 'traced'),
  },
  {
    id: 'tracing-sampled',
    title:
      'user-service GET /users/me with 10 % of traces sampled (parentbased_traceidratio) / untraced',
    mode: 'throughput',
    pair: (f) => tracedAgainstUntraced(f, 'traced 10 %', 0.1),
  },
];
