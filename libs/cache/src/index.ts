export { redisConfigOf, redisConfigShape } from './config.ts';
export { createJsonCache, type JsonCache } from './json-cache.ts';
export {
  closeRedis,
  createLoggedRedis,
  createRedis,
  redisCheck,
  type ConnectionLog,
  type RedisConfig,
} from './redis.ts';
export type { Redis } from 'ioredis';
