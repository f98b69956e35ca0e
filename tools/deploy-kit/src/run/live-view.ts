import { formatDuration } from '@flotilla/loadgen';
import { Listr, type ListrTask } from 'listr2';
import { describeStep, formatFigures } from '../core/format.ts';
import type { ReleasePlan } from '../core/plan.ts';
import type { ReleaseEvent } from './runner.ts';

interface StepState {
  started: Promise<void>;
  finished: Promise<string | undefined>;
  start: () => void;
  finish: (detail: string | undefined) => void;
  fail: (reason: string) => void;
  update?: (text: string) => void;
}

function deferredStep(): StepState {
  let start = () => undefined as void;
  let finish = (_: string | undefined) => undefined as void;
  let fail = (_: string) => undefined as void;
  const started = new Promise<void>((resolve) => (start = resolve));
  const finished = new Promise<string | undefined>((resolve, reject) => {
    finish = resolve;
    fail = (reason) => reject(new Error(reason));
  });
  finished.catch(() => undefined);
  return { started, finished, start, finish, fail };
}

/**
 * The live view of a release: a tree of its steps (listr2), each with its numbers as they come
 * (weight, requests, success rate, p99, time left in the pause). In a terminal it redraws in place;
 * elsewhere (CI) it prints plain lines, one per step and per measurement.
 */
export function createLiveView(plan: ReleasePlan, { tty }: { tty: boolean }) {
  const steps = plan.steps.map(() => deferredStep());
  const outcome = deferredStep();
  let endedWith: (() => void) | undefined;
  const end = new Promise<void>((resolve) => (endedWith = resolve));

  const waitStep = async (state: StepState): Promise<'started' | 'ended'> =>
    Promise.race([state.started.then(() => 'started' as const), end.then(() => 'ended' as const)]);

  const tasks: ListrTask[] = [];
  plan.steps.forEach((step, index) => {
    const state = steps[index]!;
    tasks.push({
      title: describeStep(step, plan),
      task: async (_ctx, task) => {
        state.update = (text) => (task.output = text);
        if ((await waitStep(state)) === 'ended') {
          task.skip('not run');
          return;
        }
        const detail = await state.finished;
        if (detail && detail !== task.output) task.output = detail;
      },
      rendererOptions: { persistentOutput: true },
    });
  });
  tasks.push({
    title: 'outcome',
    task: async (_ctx, task) => {
      await end;
      task.title = (await outcome.finished) ?? 'done';
    },
  });

  const listr = new Listr(tasks, {
    concurrent: false,
    exitOnError: false,
    // Ctrl-C is the release's to handle (it rolls back, then reports); listr2's own handler would
    // exit the process at once (127), leaving the release half done.
    registerSignalListeners: false,
    renderer: tty ? 'default' : 'simple',
    rendererOptions: { collapseSubtasks: false, showErrorMessage: true },
  });
  const running = listr.run().catch(() => undefined);

  let lastPrinted = '';
  const onEvent = (event: ReleaseEvent) => {
    if (event.type === 'step') {
      const state = steps[event.index];
      if (!state) return;
      if (event.status === 'running') {
        state.start();
        const parts = [
          event.figures ? formatFigures(event.figures) : undefined,
          event.remainingMs === undefined
            ? undefined
            : `${formatDuration(Math.ceil(event.remainingMs / 1000) * 1000)} left`,
          event.figures ? undefined : event.detail,
        ].filter(Boolean);
        const text = parts.join('  ');
        // In CI, a line when something is decided, not every second.
        const worthALine =
          tty ||
          (event.figures && event.detail) ||
          (!event.figures && event.remainingMs === undefined);
        if (text && worthALine && text !== lastPrinted) {
          lastPrinted = text;
          state.update?.(text);
        }
      } else if (event.status === 'done')
        state.finish(event.figures ? formatFigures(event.figures) : event.detail);
      else state.fail(event.detail ?? 'failed');
      return;
    }
    if (event.type === 'rollback') {
      if (event.status === 'done') outcome.finish(`rolled back: ${event.detail ?? ''}`);
      if (event.status === 'failed') outcome.fail(`ROLLBACK FAILED: ${event.detail ?? ''}`);
      return;
    }
    if (event.type === 'end') {
      if (event.release.result === 'released') outcome.finish(`released ${event.release.label}`);
      endedWith?.();
    }
  };
  return { onEvent, done: running };
}
