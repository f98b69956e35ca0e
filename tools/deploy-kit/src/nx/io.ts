import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { CommandIO } from '../run/command.ts';

/** The process's own streams and environment, for a command run by Nx or from the shell. */
export function processIO(workspace: string, signal?: AbortSignal): CommandIO {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    workspace,
    ...(signal ? { signal } : {}),
  };
}

/** Ctrl-C rolls a running release back instead of leaving it half done. */
export function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort(new Error('interrupted')));
  process.once('SIGTERM', () => controller.abort(new Error('terminated')));
  return controller.signal;
}

/**
 * Who calls whom, from each chart's `networkPolicy.callsTo` (the calls its NetworkPolicy allows,
 * so the one place that must already be right).
 */
export function callsOf(workspace: string, services: readonly string[]): Record<string, string[]> {
  return Object.fromEntries(
    services.map((service) => {
      const values = parse(
        readFileSync(join(workspace, 'helm', service, 'values.yaml'), 'utf8'),
      ) as {
        networkPolicy?: { callsTo?: string[] };
      };
      return [service, values.networkPolicy?.callsTo ?? []];
    }),
  );
}
