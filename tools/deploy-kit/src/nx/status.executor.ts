import type { ExecutorContext } from '@nx/devkit';
import { status, type StatusOptions } from '../run/command.ts';
import { processIO } from './io.ts';

/** `nx run <service>:deploy-status --env=<env>`. */
export default async function statusExecutor(
  options: Omit<StatusOptions, 'service'>,
  context: ExecutorContext,
): Promise<{ success: boolean }> {
  const code = await status(
    { ...options, service: context.projectName as StatusOptions['service'] },
    processIO(context.root),
  );
  process.exitCode = code;
  return { success: code === 0 };
}
