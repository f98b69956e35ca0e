import { judge, stepVerdict } from '../core/analysis.ts';
import type { Figures, KitLoad, ReleaseRecord, Result, StepRecord } from '../core/ledger.ts';
import { EXIT, type ReleasePlan, type Step } from '../core/plan.ts';
import type { AnalysisLoad } from './analysis-load.ts';
import {
  AnalysisFailedError,
  type AnalysisSource,
  type Candidate,
  type Platform,
} from '../platforms/platform.ts';

/** Time, injectable: the runner waits (pauses, holds) only through it. */
export interface Clock {
  now(): number;
  /** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason as Error);
        return;
      }
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal?.reason as Error);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

/** What the live view and the telemetry hear while a release runs. */
export type ReleaseEvent =
  | {
      type: 'recover';
      release: ReleaseRecord;
      status: 'running' | 'done' | 'failed';
      detail?: string;
    }
  | {
      type: 'step';
      index: number;
      step: Step;
      status: 'running' | 'done' | 'failed';
      detail?: string;
      figures?: Figures;
      remainingMs?: number;
    }
  | { type: 'rollback'; status: 'running' | 'done' | 'failed'; reason: string; detail?: string }
  | { type: 'end'; release: ReleaseRecord; exitCode: number };

export interface RunOptions {
  plan: ReleasePlan;
  platform: Platform;
  source: AnalysisSource;
  /** The kit's own traffic during each analysis step, where the environment names one. */
  load?: AnalysisLoad;
  clock?: Clock;
  /** Who runs it: user@host, and the CI job when there is one. */
  by: string;
  /** Config keys (environment variables) of the new version: `--set KEY=VALUE`. */
  settings?: Record<string, string>;
  onEvent?: (event: ReleaseEvent) => void;
  /** Aborting rolls the release back (Ctrl-C). */
  signal?: AbortSignal;
}

/** A step that did not hold: the release is rolled back. */
class StepFailed extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StepFailed';
  }
}

const LIVE_EVERY_MS = 1000;

/**
 * Carries out a release plan on a platform: each step in order, the new version watched all along,
 * every step recorded in the ledger as it ends. Any failure (a step, the analysis, the new process
 * exiting, Ctrl-C) rolls the release back: traffic to the stable version first, then the new one
 * stopped. Resolves with the ledger record and the exit code (0, 1, or 4 when the rollback failed).
 * The caller holds the release lock, and has undone an unfinished release first (recoverRelease).
 */
export async function runRelease(
  options: RunOptions,
): Promise<{ release: ReleaseRecord; exitCode: number }> {
  const { plan, platform, source } = options;
  const clock = options.clock ?? systemClock;
  const emit = options.onEvent ?? (() => undefined);
  const startedMs = clock.now();
  const iso = (ms: number) => new Date(ms).toISOString();

  const release: ReleaseRecord = {
    service: plan.service,
    environment: plan.environment,
    revision: plan.revision,
    version: plan.artefact.version,
    label: plan.label,
    strategy: plan.purpose === 'rollback' ? 'rollback' : plan.strategy,
    platform: plan.platform,
    previous: plan.stable,
    startedAt: iso(startedMs),
    result: 'in-progress',
    steps: [],
    by: options.by,
  };
  await platform.record(release);

  // Aborts every wait when the new version exits on its own or the person presses Ctrl-C.
  const failure = new AbortController();
  options.signal?.addEventListener(
    'abort',
    () => failure.abort(new StepFailed('stopped by a signal (Ctrl-C)')),
    { once: true },
  );
  let candidate: Candidate | undefined;
  let stopWatching = () => undefined as void;
  let failuresSoFar = 0;

  const runStep = async (index: number, step: Step): Promise<void> => {
    const stepStart = clock.now();
    const record: StepRecord = {
      kind: step.kind,
      title: step.title,
      status: 'done',
      startedAt: iso(stepStart),
      durationMs: 0,
    };
    const progress = (detail: string) =>
      emit({ type: 'step', index, step, status: 'running', detail });
    emit({ type: 'step', index, step, status: 'running' });
    try {
      failure.signal.throwIfAborted();
      switch (step.kind) {
        case 'build':
          await platform.build(plan.service, plan.artefact, plan.label, progress);
          break;
        case 'migrate':
          await platform.migrate(plan.service, plan.artefact, plan.label, progress);
          break;
        case 'start':
          candidate = await platform.start(plan.service, plan.artefact, plan.label, {
            settings: options.settings ?? {},
            strategy: plan.strategy,
          });
          release.handle = candidate.handle;
          await platform.record(release);
          stopWatching = platform.watch(candidate, (why) =>
            failure.abort(new StepFailed(`${plan.label} stopped: ${why}`)),
          );
          record.detail = describeHandle(candidate);
          break;
        case 'ready':
          await raceAbort(
            platform.ready(requireCandidate(candidate), step.timeoutMs, progress),
            failure.signal,
          );
          break;
        case 'smoke':
          await raceAbort(platform.smoke(requireCandidate(candidate), progress), failure.signal);
          break;
        case 'shift':
          await platform.shift(requireCandidate(candidate), step.weight);
          break;
        case 'analyse':
        case 'hold': {
          const weight = step.kind === 'analyse' ? step.weight : 100;
          const load = options.load?.start({ weight, windowMs: step.windowMs });
          try {
            const figures = await analyse(step, index);
            record.figures = figures;
            record.detail = figures.at(-1)?.reason;
          } finally {
            if (load) record.kitLoad = await load.stop();
          }
          if (record.kitLoad)
            record.detail = `${record.detail ?? ''}; ${kitLoadText(record.kitLoad)}`;
          break;
        }
        case 'retire':
          await platform.retire(requireCandidate(candidate), progress);
          break;
      }
      record.durationMs = clock.now() - stepStart;
      release.steps.push(record);
      await platform.record(release);
      emit({
        type: 'step',
        index,
        step,
        status: 'done',
        ...(record.detail ? { detail: record.detail } : {}),
        ...(record.figures?.at(-1) ? { figures: record.figures.at(-1) } : {}),
      });
    } catch (err) {
      record.status = 'failed';
      record.durationMs = clock.now() - stepStart;
      record.detail = reasonOf(err, failure.signal);
      if (record.kitLoad) record.detail = `${record.detail}; ${kitLoadText(record.kitLoad)}`;
      if (err instanceof AnalysisFailedError) record.figures = err.figures;
      release.steps.push(record);
      emit({ type: 'step', index, step, status: 'failed', detail: record.detail });
      throw new StepFailed(`${step.title}: ${record.detail}`, { cause: err });
    }
  };

  const analyse = async (
    step: Extract<Step, { kind: 'analyse' | 'hold' }>,
    index: number,
  ): Promise<Figures[]> => {
    if (platform.analyse) {
      // The platform judges (Argo Rollouts' AnalysisRuns): the kit reports what it measured.
      const window =
        step.kind === 'analyse'
          ? { weight: step.weight, pauseMs: step.pauseMs }
          : { weight: 100, pauseMs: step.ms };
      return raceAbort(
        platform.analyse(requireCandidate(candidate), window, (figures) =>
          emit({ type: 'step', index, step, status: 'running', figures, detail: figures.reason }),
        ),
        failure.signal,
      );
    }
    const measurements: Figures[] = [];
    const total = step.kind === 'analyse' ? step.pauseMs : step.ms;
    const weight = step.kind === 'analyse' ? step.weight : 100;
    const deadline = clock.now() + total;
    // The first measurement covers the end of the pause; later ones, one window each.
    await waitLive(Math.max(0, total - step.windowMs), deadline, index, step, undefined);
    for (;;) {
      const mark = await source.begin(plan.service, plan.label);
      const windowEnd = clock.now() + step.windowMs;
      await waitLive(step.windowMs, Math.max(deadline, windowEnd), index, step, mark, weight);
      const figures = judge({ ...(await source.end(mark)), weight }, plan.analysis);
      measurements.push(figures);
      if (figures.verdict === 'failed') failuresSoFar++;
      emit({ type: 'step', index, step, status: 'running', figures, detail: figures.reason });
      const verdict = stepVerdict(measurements, failuresSoFar, plan.analysis);
      if (step.kind === 'hold') {
        // Blue-green's preview watches the new version: a failure switches back; the switch stands otherwise.
        if (verdict === 'failed' && figures.verdict === 'failed')
          throw new AnalysisFailedError(figures.reason, measurements);
        if (clock.now() >= deadline) return measurements;
        continue;
      }
      if (verdict === 'passed') return measurements;
      if (verdict === 'failed') throw new AnalysisFailedError(figures.reason, measurements);
    }
  };

  const waitLive = async (
    ms: number,
    deadline: number,
    index: number,
    step: Step,
    mark: unknown,
    weight = 0,
  ) => {
    const end = clock.now() + ms;
    while (clock.now() < end) {
      await clock.sleep(Math.min(LIVE_EVERY_MS, end - clock.now()), failure.signal);
      const live = mark === undefined ? undefined : await source.end(mark).catch(() => undefined);
      emit({
        type: 'step',
        index,
        step,
        status: 'running',
        remainingMs: Math.max(0, deadline - clock.now()),
        ...(live ? { figures: judge({ ...live, weight }, plan.analysis) } : {}),
      });
    }
  };

  let result: Result = 'released';
  let exitCode: number = EXIT.released;
  try {
    for (const [index, step] of plan.steps.entries()) await runStep(index, step);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    release.reason = reason;
    emit({ type: 'rollback', status: 'running', reason });
    try {
      if (candidate) await platform.abort(candidate, plan.stable);
      result = 'rolled-back';
      exitCode = EXIT.failed;
      emit({
        type: 'rollback',
        status: 'done',
        reason,
        detail: `all traffic on ${plan.stable?.label ?? 'the old version'}`,
      });
    } catch (rollbackError) {
      result = 'failed';
      exitCode = EXIT.rollbackFailed;
      release.reason = `${reason}; then the rollback failed: ${(rollbackError as Error).message}. A person must act: see docs/runbooks/failed-release.md.`;
      emit({
        type: 'rollback',
        status: 'failed',
        reason,
        detail: (rollbackError as Error).message,
      });
    }
  } finally {
    stopWatching();
  }
  const finished = clock.now();
  release.result = result;
  release.finishedAt = iso(finished);
  release.durationMs = finished - startedMs;
  await platform.record(release);
  emit({ type: 'end', release, exitCode });
  return { release, exitCode };
}

/**
 * Undoes what an interrupted release left (the deploy command was killed mid-release): traffic
 * back to the version before it, its new version stopped, the ledger told. The caller holds the
 * lock it took over.
 */
export async function recoverRelease(
  unfinished: ReleaseRecord,
  platform: Platform,
  clock: Clock = systemClock,
  emit: (event: ReleaseEvent) => void = () => undefined,
): Promise<void> {
  emit({ type: 'recover', release: unfinished, status: 'running' });
  try {
    await platform.abort(platform.candidateOf(unfinished), unfinished.previous);
  } catch (err) {
    emit({
      type: 'recover',
      release: unfinished,
      status: 'failed',
      detail: (err as Error).message,
    });
    throw new Error(
      `could not undo the unfinished release r${unfinished.revision}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  const now = clock.now();
  await platform.record({
    ...unfinished,
    result: 'aborted',
    reason: `the deploy command stopped during this release (${unfinished.by}); its new version was stopped and traffic returned to ${unfinished.previous?.label ?? 'the old version'}`,
    finishedAt: new Date(now).toISOString(),
    durationMs: now - Date.parse(unfinished.startedAt),
  });
  emit({ type: 'recover', release: unfinished, status: 'done' });
}

/** The kit's own load in words, for a step's detail. */
export function kitLoadText(load: KitLoad): string {
  return load.error
    ? `the kit's own load sent nothing: ${load.error}`
    : `the kit's own load: ${load.requests} requests at ${load.rate}/s, ${load.failed} failed`;
}

function requireCandidate(candidate: Candidate | undefined): Candidate {
  if (!candidate) throw new Error('no new version was started');
  return candidate;
}

function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function reasonOf(err: unknown, signal: AbortSignal): string {
  if (signal.aborted && signal.reason instanceof Error) return brief(signal.reason.message);
  return brief(err instanceof Error ? err.message : String(err));
}

/** A reason fit for a report line: a long tool output keeps its first line and its end. */
function brief(text: string): string {
  const lines = text.trim().split('\n');
  if (lines.length <= 6 && text.length <= 600) return text.trim();
  return [lines[0], '…', ...lines.slice(-5)].join('\n').slice(-800);
}

function describeHandle(candidate: Candidate): string {
  return Object.entries(candidate.handle)
    .filter(([, value]) => typeof value === 'string' || typeof value === 'number')
    .map(([key, value]) => `${key} ${String(value)}`)
    .join(', ');
}
