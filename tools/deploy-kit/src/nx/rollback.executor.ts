import type { ExecutorContext } from '@nx/devkit';
import { rollback, type RollbackOptions } from '../run/command.ts';
import { interruptSignal, processIO } from './io.ts';

/** `nx run <service>:rollback --env=<env> [--to=<version>]`. */
export default async function rollbackExecutor(
  options: Omit<RollbackOptions, 'service'>,
  context: ExecutorContext,
): Promise<{ success: boolean }> {
  const code = await rollback(
    { ...options, service: context.projectName as RollbackOptions['service'] },
    processIO(context.root, interruptSignal()),
  );
  process.exitCode = code;
  return { success: code === 0 };
}
