import type { Redis } from '@flotilla/cache';

/**
 * Token bucket in Redis, atomic in one Lua script and timed by the Redis server's clock, so every
 * gateway replica shares one bucket per key. Returns {allowed, retryAfterMs, remaining}.
 */
const TAKE_TOKEN = `
local capacity = tonumber(ARGV[1])
local per_ms = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or capacity
local ts = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - ts) * per_ms)
local allowed = 0
local retry = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  retry = math.ceil((1 - tokens) / per_ms)
end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'ts', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / per_ms) + 1000)
return {allowed, retry, math.floor(tokens)}
`;

export interface Limit {
  /** Steady rate. */
  perMinute: number;
  /** Bucket size: requests allowed at once. */
  burst: number;
}

export interface Decision {
  allowed: boolean;
  retryAfterMs: number;
  remaining: number;
}

type RedisWithTakeToken = Redis & {
  takeToken(key: string, capacity: number, perMs: number): Promise<[number, number, number]>;
};

export function createRateLimiter(redis: Redis) {
  const client = redis as RedisWithTakeToken;
  if (typeof client.takeToken !== 'function')
    client.defineCommand('takeToken', { numberOfKeys: 1, lua: TAKE_TOKEN });
  return {
    async take(key: string, limit: Limit): Promise<Decision> {
      const [allowed, retryAfterMs, remaining] = await client.takeToken(
        `rl:${key}`,
        limit.burst,
        limit.perMinute / 60_000,
      );
      return { allowed: allowed === 1, retryAfterMs, remaining };
    },
  };
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;
