import type { StrategyName } from '../core/environment.ts';
import type { Figures, ReleaseRecord } from '../core/ledger.ts';
import type { Artefact, Current, LockState } from '../core/plan.ts';

/** The new version of a service while a release runs. */
export interface Candidate {
  service: string;
  label: string;
  version: string;
  /** What the platform needs to find it again (a pid and ports, a Rollout revision). */
  handle: Record<string, unknown>;
}

/** A held release lock. */
export interface HeldLock {
  release(): Promise<void>;
}

/** Thrown when a lock is held by someone alive. */
export class LockHeldError extends Error {
  readonly lock: LockState;

  constructor(lock: LockState) {
    super(`held by ${lock.holder} since ${lock.since}`);
    this.name = 'LockHeldError';
    this.lock = lock;
  }
}

/** The analysis of a step failed; its measurements say why. */
export class AnalysisFailedError extends Error {
  readonly figures: Figures[];

  constructor(reason: string, figures: Figures[]) {
    super(`analysis failed: ${reason}`);
    this.name = 'AnalysisFailedError';
    this.figures = figures;
  }
}

/** A mistake of the person or the machine that no release can fix: exit 2 with the message. */
export class UsageError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UsageError';
  }
}

/** Progress a long step reports while it runs (a build's output, a wait). */
export type Progress = (detail: string) => void;

/**
 * What the deploy kit needs from a place services run: read what runs, keep the ledger and the
 * lock, and carry out each kind of step. The planner decides; a platform only does.
 */
export interface Platform {
  readonly name: 'local' | 'kubernetes';
  /** Whether it can run the strategy for the service: true, or why not. */
  supports(service: string, strategy: StrategyName): true | string;
  /** The new version joins the old one's port rather than taking weighted traffic. */
  sharedPort(service: string): boolean;
  /** Migrations are a step of their own (false: they run inside `start`, as a chart hook). */
  migrations(service: string): boolean;
  /** The kit can reach the new version to smoke-test it. */
  readonly smokeTests: boolean;

  current(service: string): Promise<Current>;
  /** The releases of the service in this platform's environment, oldest first. */
  history(service: string): Promise<ReleaseRecord[]>;
  /** Adds or replaces (by revision) a release in the ledger. */
  record(release: ReleaseRecord): Promise<void>;
  lockState(service: string): Promise<LockState | undefined>;
  /** Takes the release lock; a stale one is taken over. Throws {@link LockHeldError}. */
  acquire(service: string, holder: string): Promise<HeldLock>;

  /**
   * Whether the artefact can be had: built already, or buildable from this checkout (`buildable`).
   * True, or what the person must do.
   */
  artefactAvailable(
    service: string,
    artefact: Artefact,
    buildable: boolean,
  ): Promise<true | string>;
  build(service: string, artefact: Artefact, label: string, progress: Progress): Promise<void>;
  migrate(service: string, artefact: Artefact, label: string, progress: Progress): Promise<void>;
  start(
    service: string,
    artefact: Artefact,
    label: string,
    options: { settings: Record<string, string>; strategy: StrategyName },
  ): Promise<Candidate>;
  /** Resolves once the candidate is ready; rejects after timeoutMs or when it exits. */
  ready(candidate: Candidate, timeoutMs: number, progress: Progress): Promise<void>;
  smoke(candidate: Candidate, progress: Progress): Promise<void>;
  /** Gives the candidate `weight` percent of the service's traffic, the stable version the rest. */
  shift(candidate: Candidate, weight: number): Promise<void>;
  /** Drains and stops every version of the service but the candidate. */
  retire(candidate: Candidate, progress: Progress): Promise<void>;
  /**
   * Undoes a release: all traffic back to `stable` first (started again if it was retired), then
   * the candidate stopped.
   */
  abort(
    candidate: Candidate,
    stable: { version: string; label: string } | undefined,
  ): Promise<void>;
  /**
   * The platform's own analysis of a step (Argo Rollouts' AnalysisRuns on Kubernetes), reporting
   * each measurement as it comes; resolves with them once the step passes, rejects with
   * {@link AnalysisFailedError} when it fails. Without it, the kit measures through an
   * {@link AnalysisSource}.
   */
  analyse?(
    candidate: Candidate,
    step: { weight: number; pauseMs: number },
    report: (figures: Figures) => void,
  ): Promise<Figures[]>;
  /**
   * Where the kit's own analysis load is sent (the gateway) and the headers that let it through the
   * gateway's limits; undefined where the kit cannot reach the service's entry point.
   */
  loadTarget?(): { url: string; headers: Record<string, string> };
  /** Calls `onExit` if the candidate stops on its own; returns a function that stops watching. */
  watch(candidate: Candidate, onExit: (why: string) => void): () => void;
  /** A candidate recorded by an unfinished release, to abort it. */
  candidateOf(release: ReleaseRecord): Candidate;
  /** The artefact a recorded release ran, to return to it. */
  artefactOf(release: ReleaseRecord): Artefact;
}

/** What a source measured of the new version over a window. */
export interface Measured {
  requests: number;
  successRate: number | undefined;
  p99Seconds: number | undefined;
}

/** Where the analysis reads the new version's traffic: the gateway's metrics or Prometheus. */
export interface AnalysisSource {
  /** Marks the start of a measurement. */
  begin(service: string, label: string): Promise<unknown>;
  /** What the version served since `mark`: requests, success rate, p99. */
  end(mark: unknown): Promise<Measured>;
}

/** The new version a recorded release started, as a platform's handle saved it. */
export function candidateOfRecord(release: ReleaseRecord): Candidate {
  return {
    service: release.service,
    label: release.label,
    version: release.version,
    handle: release.handle ?? {},
  };
}
