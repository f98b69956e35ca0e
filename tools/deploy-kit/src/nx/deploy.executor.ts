import type { ExecutorContext, TaskGraph } from '@nx/devkit';
import { releaseOrder } from '../core/release-order.ts';
import type { DeployOptions } from '../run/command.ts';

import { callsOf, interruptSignal, processIO } from './io.ts';

// Loaded on use: Nx require()s executors, and the command's graph has top-level awaits.
const command = () => import('../run/command.ts');

type Options = Omit<DeployOptions, 'service'>;

/** `nx run <service>:deploy --env=<env>`: the deploy command for the project's service. */
export default async function deployExecutor(
  options: Options,
  context: ExecutorContext,
): Promise<{ success: boolean }> {
  const code = await (
    await command()
  ).deploy(
    { ...options, service: context.projectName as DeployOptions['service'] },
    processIO(context.root, interruptSignal()),
  );
  process.exitCode = code;
  return { success: code === 0 };
}

/**
 * `nx affected -t deploy` and `nx run-many -t deploy`: every service of the run in one process,
 * each after the services it calls, stopping at the first that does not release.
 */
export async function* deployBatch(
  taskGraph: TaskGraph,
  inputs: Record<string, Options>,
  _overrides: Options,
  context: ExecutorContext,
): AsyncGenerator<{ task: string; result: { success: boolean; terminalOutput: string } }> {
  const byService = new Map(
    Object.values(taskGraph.tasks).map((task) => [task.target.project, task.id]),
  );
  const order = releaseOrder([...byService.keys()], callsOf(context.root, [...byService.keys()]));
  if (order.length > 1) {
    process.stdout.write(
      `releasing in this order (each after the services it calls): ${order.join(', ')}\n`,
    );
  }
  const signal = interruptSignal();
  let failed: string | undefined;
  for (const service of order) {
    const task = byService.get(service)!;
    if (failed) {
      yield {
        task,
        result: { success: false, terminalOutput: `not run: ${failed} did not release before it` },
      };
      continue;
    }
    const code = await (
      await command()
    ).deploy(
      { ...inputs[task]!, service: service as DeployOptions['service'] },
      processIO(context.root, signal),
    );
    if (code !== 0) {
      failed = service;
      process.exitCode = code;
    }
    yield { task, result: { success: code === 0, terminalOutput: `exit ${code}` } };
  }
}
