import type { Redis } from 'ioredis';

export interface JsonCache<T> {
  /** The cached value, or undefined on a miss or when Redis fails. */
  get(key: string): Promise<T | undefined>;
  /** Stores the value with the cache's TTL; a Redis failure is reported, not thrown. */
  set(key: string, value: T): Promise<void>;
  /**
   * Removes the key; a Redis failure is reported, not thrown. A value that could not be removed
   * lives at most until its TTL ends, which bounds how stale a read can be.
   */
  delete(key: string): Promise<void>;
}

/**
 * A read-through helper over Redis that fails open: reads and writes that fail are reported to
 * `onError` and behave as a miss, so the service answers correctly, only slower, while Redis is down.
 */
export function createJsonCache<T>(
  redis: Redis,
  {
    namespace,
    ttlSeconds,
    onError,
  }: { namespace: string; ttlSeconds: number; onError: (err: Error, op: string) => void },
): JsonCache<T> {
  const keyOf = (key: string) => `${namespace}:${key}`;
  return {
    async get(key) {
      try {
        const raw = await redis.get(keyOf(key));
        return raw === null ? undefined : (JSON.parse(raw) as T);
      } catch (err) {
        onError(err as Error, 'get');
        return undefined;
      }
    },
    async set(key, value) {
      try {
        await redis.set(keyOf(key), JSON.stringify(value), 'EX', ttlSeconds);
      } catch (err) {
        onError(err as Error, 'set');
      }
    },
    async delete(key) {
      try {
        await redis.del(keyOf(key));
      } catch (err) {
        onError(err as Error, 'delete');
      }
    },
  };
}
