export { redisConfigOf, redisConfigShape } from './config.ts';
export { createJsonCache, type JsonCache } from './json-cache.ts';
export { closeRedis, createRedis, redisCheck, type RedisConfig } from './redis.ts';
export type { Redis } from 'ioredis';
