import { UPSTREAM_POOL, type Fixture } from './fixture.ts';

/** One side of a pair: what wrk loads. */
export interface Target {
  label: string;
  url: string;
  headers?: Record<string, string>;
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
  /** Lines A must have logged per request it answered (a request log that silently stops fails). */
  logsPerRequest?: { read: () => string; pattern: RegExp };
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

export const SCENARIOS: readonly Scenario[] = [
  {
    id: 'express',
    title: 'bare Express 5 / raw node:http, GET /hello (the framework alone)',
    mode: 'throughput',
    async pair(f) {
      const [express, raw] = [await f.server('express'), await f.server('raw')];
      return {
        a: { label: 'express', url: `${express.url}/hello` },
        b: { label: 'node:http', url: `${raw.url}/hello` },
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
        a: { label: 'kit', url: `${kit.url}/hello` },
        b: { label: 'express', url: `${express.url}/hello` },
        logsPerRequest: { read: () => kit.proc.output(), pattern: /"url":"\/hello"/g },
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
        a: { label: 'user-service', url: `${users.url}/health` },
        b: { label: 'express', url: `${express.url}/health` },
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
      return {
        a: { label: '/users/me', url: `${users.url}/users/me`, headers: bearer(users.token) },
        b: { label: '/health', url: `${users.url}/health` },
        logsPerRequest: { read: () => users.proc.output(), pattern: /"url":"\/users\/me"/g },
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
        a: { label: 'gateway', url: `${gateway.url}/api/users/me`, headers: bearer(users.token) },
        b: { label: 'nginx', url: `${nginx.url}/api/users/me`, headers: bearer(users.token) },
        logsPerRequest: { read: () => gateway.proc.output(), pattern: /"url":"\/api\/users\/me"/g },
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
      return {
        a: { label: 'gateway', url: `${gateway.url}/api/users/me`, headers: bearer(users.token) },
        b: { label: 'direct', url: `${users.url}/users/me`, headers: bearer(users.token) },
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
    async pair(f) {
      const [traced, users] = [await f.tracedUserService(), await f.userService()];
      return {
        a: { label: 'traced', url: `${traced.url}/users/me`, headers: bearer(users.token) },
        b: { label: 'untraced', url: `${users.url}/users/me`, headers: bearer(users.token) },
      };
    },
  },
];
