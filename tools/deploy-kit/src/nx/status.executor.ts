import type { ExecutorContext } from '@nx/devkit';
import type { StatusOptions } from '../run/command.ts';

import { processIO } from './io.ts';

// Loaded on use: Nx require()s executors, and the command's graph has top-level awaits.
const command = () => import('../run/command.ts');

/** `nx run <service>:deploy-status --env=<env>`. */
export default async function statusExecutor(
  options: Omit<StatusOptions, 'service'>,
  context: ExecutorContext,
): Promise<{ success: boolean }> {
  const code = await (
    await command()
  ).status(
    { ...options, service: context.projectName as StatusOptions['service'] },
    processIO(context.root),
  );
  process.exitCode = code;
  return { success: code === 0 };
}
