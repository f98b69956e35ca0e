import { settingsFor, type Environment, type StrategyName } from './environment.ts';
import type { ReleaseRecord } from './ledger.ts';

/** The exit codes the README documents. */
export const EXIT = Object.freeze({
  released: 0,
  failed: 1,
  usage: 2,
  refused: 3,
  rollbackFailed: 4,
});

/** What a release deploys: an artefact version (a commit id, `-dirty` for uncommitted changes). */
export interface Artefact {
  version: string;
  dirty: boolean;
  /** Where the platform keeps it, when it is not found by version alone (a build of a dirty tree). */
  location?: string;
}

/** What runs now for the service in the environment. */
export interface Current {
  /** The version taking the traffic, if any. */
  stable?: { version: string; label: string };
  /** Every version the platform runs for it, with its share of the traffic. */
  versions: { label: string; version: string; weight: number; health?: VersionHealth }[];
}

/** Whether a version's process runs and answers its readiness, where the platform can tell. */
export interface VersionHealth {
  alive: boolean;
  ready: boolean;
  /** Why not, in words. */
  detail?: string | undefined;
  /** Where its output is. */
  log?: string | undefined;
}

/** The release lock of a service in an environment, as the platform found it. */
export interface LockState {
  holder: string;
  since: string;
  /** The holder is gone (its process died or its lease expired): the lock can be taken over. */
  stale: boolean;
}

export interface PlanRequest {
  service: string;
  environment: Environment;
  artefact: Artefact;
  current: Current;
  /** Releases of this service in this environment, oldest first. */
  history: readonly ReleaseRecord[];
  /** Releases of this service in the environment it must be promoted from (`promoteFrom`). */
  upstreamHistory: readonly ReleaseRecord[];
  lock: LockState | undefined;
  strategy?: StrategyName;
  approval: { approved: boolean; by?: string };
  /** Strategies the platform can run for this service, and why the others cannot be. */
  supports: (strategy: StrategyName) => true | string;
  /** The service has a database: migrations run before the new version starts. */
  migrations: boolean;
  /**
   * The new version joins the old one's port instead of taking weighted traffic (the system's entry
   * point on the local platform): it is smoke-tested once the old one is retired.
   */
  sharedPort: boolean;
  /**
   * The kit can reach the new version to smoke-test it (the local platform). On Kubernetes it does
   * not reach into the cluster's network: the readiness probes and the analysis judge the pods.
   */
  smoke?: boolean;
  /** Redeploy even when the version already runs. */
  force?: boolean;
  /**
   * A rollback returns to a version released before: rolling, without the promotion and approval
   * gates (restoring service must not wait), and even when that version still runs beside another.
   */
  purpose?: 'release' | 'rollback';
}

/** One step of a release, in order. */
export type Step =
  | { kind: 'build'; title: string }
  | { kind: 'migrate'; title: string }
  | { kind: 'start'; title: string }
  | { kind: 'ready'; title: string; timeoutMs: number }
  | { kind: 'smoke'; title: string }
  | { kind: 'shift'; title: string; weight: number }
  | { kind: 'analyse'; title: string; weight: number; pauseMs: number; windowMs: number }
  | { kind: 'hold'; title: string; ms: number; windowMs: number }
  | { kind: 'retire'; title: string };

export type StepKind = Step['kind'];

/** A refusal: why the release cannot go ahead, and the exit code that says which kind. */
export interface Refusal {
  code: (typeof EXIT)['refused'] | (typeof EXIT)['usage'];
  gate: 'promotion' | 'approval' | 'dirty' | 'lock' | 'strategy' | 'baseline';
  message: string;
}

export interface ReleasePlan {
  kind: 'release';
  purpose: 'release' | 'rollback';
  service: string;
  environment: string;
  platform: Environment['platform'];
  strategy: StrategyName;
  artefact: Artefact;
  /** The label the new version runs under: `<version>-r<revision>`. */
  label: string;
  revision: number;
  stable: { version: string; label: string } | undefined;
  steps: Step[];
  analysis: ReturnType<typeof settingsFor>['analysis'];
  gates: string[];
  /** Takes over a stale lock: the unfinished release it left is rolled back first. */
  recover: ReleaseRecord | undefined;
  rollback: string;
}

export type Plan =
  | ReleasePlan
  | { kind: 'refused'; service: string; environment: string; refusals: Refusal[] }
  | {
      kind: 'nothing';
      service: string;
      environment: string;
      version: string;
      reason: string;
    };

/** Revision numbers count every release of a service in an environment, from 1. */
export function nextRevision(history: readonly ReleaseRecord[]): number {
  return history.reduce((max, record) => Math.max(max, record.revision), 0) + 1;
}

/** The release that a stale lock left unfinished, if any. */
export function unfinished(history: readonly ReleaseRecord[]): ReleaseRecord | undefined {
  const last = history.at(-1);
  return last?.result === 'in-progress' ? last : undefined;
}

/**
 * The planner: environment, service, artefact, what runs now and the history in; the ordered steps
 * of the release out, or why it cannot go ahead. Pure: no I/O, no clock.
 */
export function planRelease(request: PlanRequest): Plan {
  const { service, environment, artefact, current } = request;
  const settings = settingsFor(environment, service);
  const rollback = request.purpose === 'rollback';
  const strategy = rollback ? 'rolling' : (request.strategy ?? settings.strategy.type);
  const refusals: Refusal[] = [];

  // A rollback goes back the platform's own way, whatever strategy the environment uses.
  const supported = rollback ? true : request.supports(strategy);
  if (supported !== true) {
    refusals.push({ code: EXIT.usage, gate: 'strategy', message: supported });
  }
  if (artefact.dirty && environment.platform !== 'local') {
    refusals.push({
      code: EXIT.refused,
      gate: 'dirty',
      message: `${artefact.version} has uncommitted changes; only the local environment takes a dirty tree. Commit, then deploy the commit.`,
    });
  }
  if (environment.promoteFrom && !rollback) {
    const promoted = request.upstreamHistory.some(
      (record) => record.version === artefact.version && record.result === 'released',
    );
    if (!promoted) {
      refusals.push({
        code: EXIT.refused,
        gate: 'promotion',
        message: `${service} ${artefact.version} has not been released in ${environment.promoteFrom}, and ${environment.name} takes only versions released there first. Deploy it to ${environment.promoteFrom}, then here.`,
      });
    }
  }
  if (environment.approval === 'required' && !request.approval.approved && !rollback) {
    refusals.push({
      code: EXIT.refused,
      gate: 'approval',
      message: `${environment.name} needs an approval: pass --approve, set FLOTILLA_APPROVED_BY in CI, or answer the prompt in a terminal.`,
    });
  }
  if (request.lock && !request.lock.stale) {
    refusals.push({
      code: EXIT.refused,
      gate: 'lock',
      message: `a release of ${service} in ${environment.name} is in progress (${request.lock.holder}, since ${request.lock.since}); wait for it, or see deploy-status.`,
    });
  }
  // Traffic can only be shifted away from a version that serves it: a dead or unready stable is no
  // baseline for a canary or a blue-green switch. A rolling release (or a rollback) replaces it.
  const baseline = current.versions.find((v) => v.label === current.stable?.label)?.health;
  if (baseline && !(baseline.alive && baseline.ready) && strategy !== 'rolling') {
    const label = current.stable?.label ?? '';
    refusals.push({
      code: EXIT.refused,
      gate: 'baseline',
      message:
        `${service} ${label} takes ${current.versions.find((v) => v.label === label)?.weight ?? 0}% of the traffic in ${environment.name} but is ${baseline.detail ?? (baseline.alive ? 'not ready' : 'not running')}` +
        `${baseline.log ? ` (its output: ${baseline.log})` : ''}, so it is no baseline for a ${strategy} release. ` +
        `Restore the service first: npx nx run ${service}:deploy --env=${environment.name} --strategy=rolling, or npx nx run ${service}:rollback --env=${environment.name}.`,
    });
  }
  if (refusals.length > 0) {
    // Bad usage (2) first: it is what the person must fix before any gate (3) matters.
    refusals.sort((a, b) => a.code - b.code);
    return { kind: 'refused', service, environment: environment.name, refusals };
  }

  const recover = request.lock?.stale ? unfinished(request.history) : undefined;
  const running = current.versions.find((v) => v.weight > 0 && v.version === artefact.version);
  if (
    !request.force &&
    !rollback &&
    !recover &&
    running &&
    current.versions.length === 1 &&
    !artefact.dirty
  ) {
    return {
      kind: 'nothing',
      service,
      environment: environment.name,
      version: artefact.version,
      reason: `${service} ${artefact.version} already runs in ${environment.name} (${running.label}, all traffic)`,
    };
  }

  // Another environment on the same platform (two local environments on one machine) may run a
  // label this revision would take: the next free revision is used.
  let revision = nextRevision(request.history);
  const taken = new Set(current.versions.map((v) => v.label));
  while (taken.has(`${artefact.version}-r${revision}`)) revision++;
  const label = `${artefact.version}-r${revision}`;
  const start: Step[] = [
    { kind: 'build', title: `artefact ${artefact.version}` },
    ...(request.migrations ? [{ kind: 'migrate', title: 'apply migrations' } as const] : []),
    {
      kind: 'start',
      title: `start ${label} beside ${current.stable?.label ?? 'nothing'}${request.sharedPort ? ' on the same port' : ''}`,
    },
    {
      kind: 'ready',
      title: `wait for ${label} to be ready`,
      timeoutMs: environment.readyTimeout,
    },
  ];
  const smoke: Step[] =
    request.smoke === false ? [] : [{ kind: 'smoke', title: `smoke test ${label}` }];
  const retire: Step[] =
    current.versions.length > 0
      ? [
          {
            kind: 'retire',
            title: `drain and stop ${current.versions.map((v) => v.label).join(', ')}`,
          },
        ]
      : [];
  const { analysis } = settings;
  const traffic: Step[] = [];
  if (strategy === 'canary') {
    for (const step of settings.strategy.canary.steps) {
      traffic.push({
        kind: 'shift',
        title: `${step.weight}% of traffic to ${label}`,
        weight: step.weight,
      });
      traffic.push({
        kind: 'analyse',
        title: `hold ${step.weight}%, then judge ${label}`,
        weight: step.weight,
        pauseMs: step.pause,
        windowMs: Math.min(analysis.window, step.pause),
      });
    }
    traffic.push({ kind: 'shift', title: `all traffic to ${label}`, weight: 100 });
  } else if (strategy === 'blueGreen') {
    traffic.push({ kind: 'shift', title: `switch all traffic to ${label}`, weight: 100 });
    traffic.push({
      kind: 'hold',
      title: `keep ${current.stable?.label ?? 'the old version'} ready to switch back, and judge ${label}`,
      ms: settings.strategy.blueGreen.preview,
      windowMs: Math.min(analysis.window, settings.strategy.blueGreen.preview),
    });
  } else if (!request.sharedPort) {
    traffic.push({ kind: 'shift', title: `all traffic to ${label}`, weight: 100 });
  }
  const steps = request.sharedPort
    ? [...start, ...retire, ...smoke]
    : [...start, ...smoke, ...traffic, ...retire];

  const gates = [
    ...(environment.promoteFrom && !rollback
      ? [`${artefact.version} was released in ${environment.promoteFrom}`]
      : []),
    ...(environment.approval === 'required' && !rollback
      ? [`approved by ${request.approval.by ?? 'you'}`]
      : []),
    `no other release of ${service} in ${environment.name} (lock)`,
  ];
  return {
    kind: 'release',
    purpose: rollback ? 'rollback' : 'release',
    service,
    environment: environment.name,
    platform: environment.platform,
    strategy,
    artefact,
    label,
    revision,
    stable: current.stable,
    steps,
    analysis,
    gates,
    recover,
    rollback: `npx nx run ${service}:rollback --env=${environment.name}`,
  };
}
