import express, { type Router } from 'express';

/** A dependency the service needs, probed on each readiness check. */
export interface DependencyCheck {
  readonly name: string;
  /** Resolves when the dependency answers; rejects (or times out) when it does not. */
  check(): Promise<unknown>;
  /**
   * When false, a failing check is reported but the service stays ready: it can still answer
   * correctly without it (a cache, say). Defaults to true.
   */
  readonly critical?: boolean;
}

export interface CheckResult {
  status: 'up' | 'down';
  critical: boolean;
  latencyMs: number;
  error?: string;
}

export interface ReadinessReport {
  status: 'ready' | 'degraded' | 'not_ready' | 'draining';
  checks: Record<string, CheckResult>;
}

export interface Health {
  /** `GET /health` (liveness) and `GET /ready` (readiness). */
  readonly router: Router;
  /** The paths {@link router} answers. */
  readonly paths: readonly string[];
  readiness(): Promise<ReadinessReport>;
  /** From now on `/ready` answers 503 `draining`, so load balancers stop sending traffic. */
  startDraining(): void;
  readonly draining: boolean;
}

export interface HealthOptions {
  checks: readonly DependencyCheck[];
  /** Each check's time limit; a slow dependency counts as down. */
  checkTimeoutMs?: number;
  now?: () => number;
}

/**
 * Liveness and readiness. `/health` says the process works and never looks at dependencies (a
 * database outage must not make an orchestrator restart every pod). `/ready` runs every check in
 * parallel with a timeout and reports each one; it is 503 when a critical check fails or the
 * service is draining.
 */
export function createHealth({
  checks,
  checkTimeoutMs = 1000,
  now = Date.now,
}: HealthOptions): Health {
  let draining = false;
  const startedAt = now();

  async function runCheck(check: DependencyCheck): Promise<CheckResult> {
    const critical = check.critical ?? true;
    const started = now();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        check.check(),
        new Promise((_resolve, reject) => {
          timer = setTimeout(
            () => reject(new Error(`timed out after ${checkTimeoutMs} ms`)),
            checkTimeoutMs,
          );
        }),
      ]);
      return { status: 'up', critical, latencyMs: now() - started };
    } catch (err) {
      return {
        status: 'down',
        critical,
        latencyMs: now() - started,
        error: (err as Error).message,
      };
    } finally {
      clearTimeout(timer);
    }
  }

  async function readiness(): Promise<ReadinessReport> {
    const results = await Promise.all(
      checks.map(async (check) => [check.name, await runCheck(check)] as const),
    );
    const byName = Object.fromEntries(results);
    if (draining) return { status: 'draining', checks: byName };
    const failed = results.filter(([, result]) => result.status === 'down');
    const status = failed.some(([, result]) => result.critical)
      ? 'not_ready'
      : failed.length > 0
        ? 'degraded'
        : 'ready';
    return { status, checks: byName };
  }

  const router = express.Router();
  router.get('/health', (_req, res) => {
    res
      .set('Cache-Control', 'no-store')
      .json({ status: 'ok', uptimeSeconds: Math.round((now() - startedAt) / 1000) });
  });
  router.get('/ready', async (_req, res) => {
    const report = await readiness();
    const ok = report.status === 'ready' || report.status === 'degraded';
    res
      .set('Cache-Control', 'no-store')
      .status(ok ? 200 : 503)
      .json(report);
  });

  return {
    router,
    paths: ['/health', '/ready'],
    readiness,
    startDraining() {
      draining = true;
    },
    get draining() {
      return draining;
    },
  };
}
