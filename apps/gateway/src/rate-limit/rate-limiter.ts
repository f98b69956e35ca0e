import type { Redis } from '@flotilla/cache';

/**
 * Token buckets in Redis, atomic in one Lua script and timed by the Redis server's clock, so every
 * gateway replica shares one bucket per key. Takes a token from each bucket in order and stops at
 * the first that has none; returns {allowed, retryAfterMs, remaining} for each bucket it looked
 * at. Several buckets in one call cost one round trip (the keys must live on one Redis, not a
 * cluster).
 */
const TAKE_TOKENS = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {}
for i, key in ipairs(KEYS) do
  local capacity = tonumber(ARGV[i * 2 - 1])
  local per_ms = tonumber(ARGV[i * 2])
  local state = redis.call('HMGET', key, 'tokens', 'ts')
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
  redis.call('HSET', key, 'tokens', tokens, 'ts', now)
  redis.call('PEXPIRE', key, math.ceil(capacity / per_ms) + 1000)
  out[#out + 1] = allowed
  out[#out + 1] = retry
  out[#out + 1] = math.floor(tokens)
  if allowed == 0 then break end
end
return out
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

type RedisWithTakeTokens = Redis & {
  takeTokens(keyCount: number, ...keysThenArgs: (string | number)[]): Promise<number[]>;
};

export function createRateLimiter(redis: Redis) {
  const client = redis as RedisWithTakeTokens;
  if (typeof client.takeTokens !== 'function')
    client.defineCommand('takeTokens', { lua: TAKE_TOKENS });
  return {
    /** One token from each bucket, in order, up to the first refusal; one decision per bucket looked at. */
    async takeAll(buckets: readonly { key: string; limit: Limit }[]): Promise<Decision[]> {
      const keys = buckets.map((b) => `rl:${b.key}`);
      const args = buckets.flatMap((b) => [b.limit.burst, b.limit.perMinute / 60_000]);
      const flat = await client.takeTokens(buckets.length, ...keys, ...args);
      const decisions: Decision[] = [];
      for (let i = 0; i + 2 < flat.length; i += 3) {
        decisions.push({
          allowed: flat[i] === 1,
          retryAfterMs: flat[i + 1] ?? 0,
          remaining: flat[i + 2] ?? 0,
        });
      }
      return decisions;
    },
    /** One token from one bucket. */
    async take(key: string, limit: Limit): Promise<Decision> {
      const [decision] = await this.takeAll([{ key, limit }]);
      if (!decision) throw new Error('the rate limiter answered nothing');
      return decision;
    },
  };
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;
