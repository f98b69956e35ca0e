import type { ExecutorContext } from '@nx/devkit';
import type { RollbackOptions } from '../run/command.ts';

import { interruptSignal, processIO } from './io.ts';

// Loaded on use: Nx require()s executors, and the command's graph has top-level awaits.
const command = () => import('../run/command.ts');

/** `nx run <service>:rollback --env=<env> [--to=<version>]`. */
export default async function rollbackExecutor(
  options: Omit<RollbackOptions, 'service'>,
  context: ExecutorContext,
): Promise<{ success: boolean }> {
  const code = await (
    await command()
  ).rollback(
    { ...options, service: context.projectName as RollbackOptions['service'] },
    processIO(context.root, interruptSignal()),
  );
  process.exitCode = code;
  return { success: code === 0 };
}
