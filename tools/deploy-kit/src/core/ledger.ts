import type { StrategyName } from './environment.ts';
import type { StepKind } from './plan.ts';

/** What one measurement of the new version found. */
export interface Figures {
  /** The new version's share of the traffic while it was measured. */
  weight: number;
  /** Requests measured; undefined when the platform's analysis does not count them (Argo's). */
  requests: number | undefined;
  /** Share of its requests that did not end in a 5xx; undefined without requests. */
  successRate: number | undefined;
  /** 99th percentile latency in seconds; undefined without requests. */
  p99Seconds: number | undefined;
  verdict: 'passed' | 'failed' | 'inconclusive';
  /** Why, in words: `success 97.1% < 99%`. */
  reason: string;
}

export interface StepRecord {
  kind: StepKind;
  title: string;
  status: 'done' | 'failed' | 'skipped';
  startedAt: string;
  durationMs: number;
  detail?: string;
  figures?: Figures[];
  /** The kit's own load during the step: what it sent through the gateway, and how much failed. */
  kitLoad?: KitLoad;
}

/** What the kit's own analysis load sent during a step. */
export interface KitLoad {
  /** Iterations started a second. */
  rate: number;
  requests: number;
  failed: number;
  /** Why it sent nothing (no load user could log in). */
  error?: string;
}

export const RESULTS = ['in-progress', 'released', 'rolled-back', 'failed', 'aborted'] as const;
export type Result = (typeof RESULTS)[number];

/** One release (or rollback) of a service in an environment, as the ledger keeps it. */
export interface ReleaseRecord {
  service: string;
  environment: string;
  revision: number;
  version: string;
  label: string;
  strategy: StrategyName | 'rollback';
  platform: string;
  /** The version that took the traffic before. */
  previous: { version: string; label: string } | undefined;
  startedAt: string;
  finishedAt?: string;
  durationMs?: number;
  result: Result;
  /** Why it did not release, or what a person must do. */
  reason?: string;
  steps: StepRecord[];
  /** Who ran it and where: user@host, and the CI job when there is one. */
  by: string;
  /** Platform data to finish or undo it (the local platform: the new process). */
  handle?: Record<string, unknown>;
}

/** The release that a rollback returns to: the last released one before what runs now. */
export function previousRelease(
  history: readonly ReleaseRecord[],
  runningLabel: string | undefined,
  to?: string,
): ReleaseRecord | undefined {
  const released = history.filter((r) => r.result === 'released');
  if (to) return released.findLast((r) => r.version === to || r.label === to);
  return released.findLast((r) => r.label !== runningLabel);
}
