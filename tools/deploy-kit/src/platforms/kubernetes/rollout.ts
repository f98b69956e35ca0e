// What the Kubernetes objects of a release say, read without I/O: a Deployment's rollout, an Argo
// Rollout's step, pause and abort, an AnalysisRun's measurements as the kit's figures.
import type { Figures } from '../../core/ledger.ts';

/** The fields of a Deployment the kit reads. */
export interface DeploymentLike {
  metadata?: { generation?: number };
  spec?: { replicas?: number; template?: { spec?: { containers?: { image?: string }[] } } };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
    conditions?: { type?: string; status?: string; reason?: string; message?: string }[];
  };
}

/** The fields of an Argo Rollout the kit reads (argoproj.io/v1alpha1). */
export interface RolloutLike {
  metadata?: { generation?: number };
  spec?: {
    replicas?: number;
    paused?: boolean;
    template?: { spec?: { containers?: { image?: string }[] } };
    strategy?: {
      canary?: { steps?: ({ setWeight?: number } | { pause?: { duration?: string | number } })[] };
      blueGreen?: { autoPromotionEnabled?: boolean };
    };
  };
  status?: {
    observedGeneration?: string | number;
    phase?: string;
    message?: string;
    abort?: boolean;
    currentPodHash?: string;
    stableRS?: string;
    currentStepIndex?: number;
    pauseConditions?: { reason?: string; startTime?: string }[] | null;
    controllerPause?: boolean;
    updatedReplicas?: number;
    availableReplicas?: number;
    readyReplicas?: number;
    blueGreen?: { activeSelector?: string; previewSelector?: string };
  };
}

/** An AnalysisRun (argoproj.io/v1alpha1), as far as the kit reads it. */
export interface AnalysisRunLike {
  metadata?: { name?: string; creationTimestamp?: string | Date; labels?: Record<string, string> };
  status?: {
    phase?: string;
    message?: string;
    metricResults?: {
      name: string;
      phase?: string;
      measurements?: { value?: string; phase?: string; finishedAt?: string | Date }[];
    }[];
  };
}

/** The image tag a workload runs: the artefact version. */
export function imageTagOf(workload: DeploymentLike | RolloutLike): string | undefined {
  const image = workload.spec?.template?.spec?.containers?.[0]?.image ?? '';
  const at = image.lastIndexOf('@');
  if (at > 0) return image.slice(at + 1);
  const colon = image.lastIndexOf(':');
  return colon > image.lastIndexOf('/') ? image.slice(colon + 1) : undefined;
}

/** A Deployment's rollout: done, still going, or failed (its progress deadline passed). */
export function deploymentProgress(d: DeploymentLike): {
  state: 'done' | 'progressing' | 'failed';
  detail: string;
} {
  const wanted = d.spec?.replicas ?? 1;
  const s = d.status ?? {};
  const stuck = s.conditions?.find(
    (c) => c.type === 'Progressing' && c.reason === 'ProgressDeadlineExceeded',
  );
  if (stuck) return { state: 'failed', detail: stuck.message ?? 'progress deadline exceeded' };
  const detail = `${s.updatedReplicas ?? 0} of ${wanted} updated, ${s.availableReplicas ?? 0} available`;
  const current = (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);
  const done =
    current &&
    (s.updatedReplicas ?? 0) >= wanted &&
    (s.availableReplicas ?? 0) >= wanted &&
    (s.replicas ?? 0) <= wanted;
  return { state: done ? 'done' : 'progressing', detail };
}

export type RolloutState =
  | { state: 'aborted'; detail: string }
  | { state: 'healthy'; detail: string }
  | { state: 'paused'; step: number; indefinite: boolean; detail: string }
  | { state: 'progressing'; step: number; detail: string };

/** Where an Argo Rollout stands: aborted (analysis failed), healthy (done), paused at a step, or moving. */
export function rolloutState(r: RolloutLike): RolloutState {
  const s = r.status ?? {};
  const step = s.currentStepIndex ?? 0;
  if (s.abort) return { state: 'aborted', detail: s.message ?? 'the Rollout was aborted' };
  if (s.phase === 'Degraded')
    return { state: 'aborted', detail: s.message ?? 'the Rollout is degraded' };
  const current = String(s.observedGeneration ?? '') === String(r.metadata?.generation ?? '');
  if (current && s.phase === 'Healthy' && s.currentPodHash && s.currentPodHash === s.stableRS) {
    return { state: 'healthy', detail: `stable on ${s.stableRS}` };
  }
  const paused = (s.pauseConditions?.length ?? 0) > 0 || r.spec?.paused === true;
  if (paused) {
    const pauseStep = r.spec?.strategy?.canary?.steps?.[step];
    const indefinite =
      r.spec?.paused === true ||
      (s.pauseConditions ?? []).some((c) => c.reason === 'BlueGreenPause') ||
      (pauseStep !== undefined && 'pause' in pauseStep && pauseStep.pause?.duration === undefined);
    return { state: 'paused', step, indefinite, detail: s.message ?? `paused at step ${step}` };
  }
  return {
    state: 'progressing',
    step,
    detail: s.message ?? `${s.phase ?? 'progressing'} at step ${step}`,
  };
}

/** The index of the Rollout step that sets `weight`, if there is one. */
export function stepOfWeight(r: RolloutLike, weight: number): number | undefined {
  const index = r.spec?.strategy?.canary?.steps?.findIndex(
    (s) => 'setWeight' in s && s.setWeight === weight,
  );
  return index === undefined || index < 0 ? undefined : index;
}

const latest = (run: AnalysisRunLike, metric: RegExp): number | undefined => {
  const result = run.status?.metricResults?.find((m) => metric.test(m.name));
  const value = result?.measurements?.at(-1)?.value;
  if (value === undefined) return undefined;
  // Prometheus answers a vector: "[0.993]".
  const number = Number(value.replace(/^\[|\]$/g, '').split(',')[0]);
  return Number.isFinite(number) ? number : undefined;
};

/** An AnalysisRun's latest measurements as the kit's figures; its phase is the verdict. */
export function figuresOfRun(run: AnalysisRunLike, weight: number): Figures {
  const phase = run.status?.phase ?? 'Pending';
  const successRate = latest(run, /success/);
  const p99Seconds = latest(run, /p99|latency/);
  const verdict: Figures['verdict'] =
    phase === 'Successful'
      ? 'passed'
      : phase === 'Failed' || phase === 'Error'
        ? 'failed'
        : 'inconclusive';
  const measured = [
    successRate === undefined ? undefined : `success ${(successRate * 100).toFixed(1)}%`,
    p99Seconds === undefined ? undefined : `p99 ${Math.round(p99Seconds * 1000)} ms`,
  ].filter(Boolean);
  return {
    weight,
    requests: undefined,
    successRate,
    p99Seconds,
    verdict,
    reason: `AnalysisRun ${run.metadata?.name ?? ''} ${phase}${measured.length > 0 ? `: ${measured.join(', ')}` : ''}${run.status?.message ? ` (${run.status.message})` : ''}`,
  };
}
