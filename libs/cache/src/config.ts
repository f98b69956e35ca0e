import type { RedisConfig } from './redis.ts';
import { field } from '@flotilla/config';
import { z } from 'zod';

/** Redis keys every service with a cache shares; spread into the service's schema. */
export const redisConfigShape = {
  REDIS_URL: z
    .url({ protocol: /^rediss?$/ })
    .describe('Redis connection URL, e.g. redis://host:6379/0'),
  REDIS_COMMAND_TIMEOUT_MS: field.milliseconds(500, 'a Redis command that takes longer fails', {
    min: 1,
  }),
  REDIS_CONNECT_TIMEOUT_MS: field.milliseconds(2000, 'time to establish a Redis connection', {
    min: 1,
  }),
} as const;

/** The client settings of a service's parsed Redis keys. */
export function redisConfigOf(
  config: { REDIS_URL: string; REDIS_COMMAND_TIMEOUT_MS: number; REDIS_CONNECT_TIMEOUT_MS: number },
  keyPrefix: string,
): RedisConfig {
  return {
    url: config.REDIS_URL,
    keyPrefix,
    commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS,
    connectTimeoutMs: config.REDIS_CONNECT_TIMEOUT_MS,
  };
}
