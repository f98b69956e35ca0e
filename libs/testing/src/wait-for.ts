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
