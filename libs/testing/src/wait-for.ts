import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Calls `probe` until it resolves, or throws the last error (as `cause`) after `timeoutMs`.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T>,
  { timeoutMs = 30_000, intervalMs = 100 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      return await probe();
    } catch (err) {
      lastError = err;
      await sleep(intervalMs);
    }
  }
  throw new Error(`${what} did not become ready within ${timeoutMs} ms`, { cause: lastError });
}

/**
 * Calls `probe` until it returns a value (not undefined), and returns it; throws the last error
 * (as `cause`) after `timeoutMs`. For polling a state that may not be there yet.
 */
export function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  { timeoutMs = 60_000, intervalMs = 500 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  return waitFor(
    what,
    async () => {
      const value = await probe();
      if (value === undefined) throw new Error(`${what}: not yet`);
      return value;
    },
    { timeoutMs, intervalMs },
  );
}
