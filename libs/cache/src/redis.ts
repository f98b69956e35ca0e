import { Redis } from 'ioredis';

export interface RedisConfig {
  url: string;
  /** Prepended to every key, so services can share a Redis without colliding. */
  keyPrefix: string;
  commandTimeoutMs: number;
  connectTimeoutMs: number;
  /** Longest wait between reconnect attempts; attempts back off up to it and go on. */
  maxReconnectDelayMs?: number;
}

/**
 * An ioredis client that fails fast: commands time out, are not queued while disconnected, and
 * are not retried; reconnects back off exponentially with jitter up to a bounded delay. Callers
 * decide what a failure means (a cache miss, usually). Errors go to `onError`, not to stderr.
 */
export function createRedis(config: RedisConfig, onError: (err: Error) => void): Redis {
  const maxDelay = config.maxReconnectDelayMs ?? 5000;
  const redis = new Redis(config.url, {
    keyPrefix: config.keyPrefix,
    commandTimeout: config.commandTimeoutMs,
    connectTimeout: config.connectTimeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    enableAutoPipelining: true,
    lazyConnect: false,
    retryStrategy: (attempt) =>
      Math.min(maxDelay, 50 * 2 ** Math.min(attempt, 10)) * (0.5 + Math.random() / 2),
  });
  redis.on('error', onError);
  return redis;
}

/** Where {@link createLoggedRedis} reports: a pino logger fits. */
export interface ConnectionLog {
  warn(details: { err: string }, message: string): void;
  info(message: string): void;
}

/**
 * {@link createRedis} for a service: a down Redis fails every reconnect attempt the same way, so
 * each distinct connection error is logged once, and the recovery once.
 */
export function createLoggedRedis(config: RedisConfig, log: ConnectionLog): Redis {
  let lastError = '';
  const redis = createRedis(config, (err) => {
    if (err.message !== lastError) log.warn({ err: err.message }, 'Redis connection error');
    lastError = err.message;
  });
  redis.on('ready', () => {
    if (lastError) log.info('Redis connected again');
    lastError = '';
  });
  return redis;
}

/** A readiness check that sends `PING`. Non-critical by default: a cache outage degrades, not fails. */
export function redisCheck(redis: Redis, { critical = false } = {}) {
  return { name: 'redis', critical, check: () => redis.ping() };
}

/**
 * Closes the client, waiting for replies in flight, or drops it when it is not connected or
 * QUIT gets no reply within the command timeout (a blocked or hung server). Never rejects.
 */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'ready') {
    // Commands are sent in batches on the next turn of the event loop (auto-pipelining); let the
    // last batch go out before QUIT, so no command issued before the close is lost.
    await new Promise((resolve) => setImmediate(resolve));
    try {
      await redis.quit();
      return;
    } catch {
      // No reply to QUIT in time; the connection is dropped below instead of left open.
    }
  }
  redis.disconnect();
}
