import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse, stringify } from 'yaml';
import { settingsFor, type Environment, type StrategyName } from '../../core/environment.ts';
import type { Figures } from '../../core/ledger.ts';
import type { Current } from '../../core/plan.ts';
import {
  AnalysisFailedError,
  UsageError,
  candidateOfRecord,
  type Candidate,
  type Platform,
  type Progress,
} from '../platform.ts';
import { connect, statusOf, type Cluster } from './cluster.ts';
import { helm, helmHistory, packChart } from './helm.ts';
import { leaseLock } from './lease.ts';
import { configMapLedger } from './ledger.ts';
import {
  deploymentProgress,
  figuresOfRun,
  imageTagOf,
  rolloutState,
  stepOfWeight,
  type AnalysisRunLike,
  type DeploymentLike,
  type RolloutLike,
} from './rollout.ts';

const ROLLOUTS = { group: 'argoproj.io', version: 'v1alpha1' } as const;
const POLL_MS = 1000;

export interface KubernetesPlatformOptions {
  environment: Environment;
  /** The folder of the environment file: its `kubernetes.valuesFile` is there. */
  environmentsDir: string;
  workspace: string;
  /** A kubeconfig file; default: KUBECONFIG, then ~/.kube/config. */
  kubeconfig?: string;
  /** `IMAGE_REGISTRY` overrides the values' `global.imageRegistry`. */
  imageRegistry?: string;
}

interface Handle {
  kind: 'Deployment' | 'Rollout';
  helmRevision: number;
  previousHelmRevision: number | undefined;
  [key: string]: unknown;
}

/**
 * The kubernetes platform: a service is its chart, installed as the Helm release `<service>` in the
 * environment's namespace and kube context, with the environment's values and the artefact's image
 * tag. Rolling releases are a Deployment's rollout; blue-green and canary are an Argo Rollout's,
 * driven as Argo expects: the kit waits on its steps, promotes its pauses (an approval), reads its
 * AnalysisRuns and aborts it. Helm's history and a ConfigMap ledger say what ran; a Lease is the
 * release lock. Reads, watches and patches go through the Kubernetes client; helm stays the CLI.
 */
export function createKubernetesPlatform(options: KubernetesPlatformOptions): Platform {
  const { environment, workspace } = options;
  const k8s = environment.kubernetes;
  if (!k8s) throw new UsageError(`${environment.name} has no kubernetes block`);
  const { context, namespace } = k8s;
  let cluster: Cluster | undefined;
  const api = (): Cluster => (cluster ??= connect(context, options.kubeconfig));
  const ledger = () => configMapLedger(api(), namespace);
  const locks = () => leaseLock(api(), namespace);
  const handleOf = (candidate: Candidate) => candidate.handle as Handle;
  const chartStrategy = (service: string) => settingsFor(environment, service).strategy.type;
  const usesRollout = (strategy: StrategyName) => strategy !== 'rolling';

  const getRollout = async (service: string): Promise<RolloutLike | undefined> => {
    try {
      return (await api().custom.getNamespacedCustomObject({
        ...ROLLOUTS,
        namespace,
        plural: 'rollouts',
        name: service,
      })) as RolloutLike;
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  };
  const getDeployment = async (service: string): Promise<DeploymentLike | undefined> => {
    try {
      return await api().apps.readNamespacedDeployment({
        name: service,
        namespace,
      });
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  };
  const analysisRuns = async (
    service: string,
    hash: string | undefined,
  ): Promise<AnalysisRunLike[]> => {
    if (!hash) return [];
    const list = (await api().custom.listNamespacedCustomObject({
      ...ROLLOUTS,
      namespace,
      plural: 'analysisruns',
      labelSelector: `rollouts-pod-template-hash=${hash}`,
    })) as { items?: AnalysisRunLike[] };
    return (list.items ?? [])
      .filter((run) => (run.metadata?.name ?? '').startsWith(service))
      .sort(
        (a, b) =>
          new Date(a.metadata?.creationTimestamp ?? 0).getTime() -
          new Date(b.metadata?.creationTimestamp ?? 0).getTime(),
      );
  };
  /** What Argo's latest AnalysisRun of the new pods says, as figures. */
  const latestFigures = async (
    service: string,
    rollout: RolloutLike,
    weight: number,
  ): Promise<Figures | undefined> => {
    const run = (await analysisRuns(service, rollout.status?.currentPodHash)).at(-1);
    return run ? figuresOfRun(run, weight) : undefined;
  };
  const failedAnalysis = async (
    service: string,
    rollout: RolloutLike,
    weight: number,
    detail: string,
  ): Promise<AnalysisFailedError> => {
    const figures = await latestFigures(service, rollout, weight).catch(() => undefined);
    return new AnalysisFailedError(figures?.reason ?? detail, figures ? [figures] : []);
  };
  /** What `kubectl argo rollouts promote` does: clear the pause conditions, unpause the spec. */
  const promote = async (service: string, rollout: RolloutLike) => {
    const target = { ...ROLLOUTS, namespace, plural: 'rollouts', name: service };
    if (rollout.spec?.paused) {
      await api().custom.patchNamespacedCustomObject(
        { ...target, body: { spec: { paused: false } } },
        api().mergePatch,
      );
    }
    await api().custom.patchNamespacedCustomObjectStatus(
      { ...target, body: { status: { pauseConditions: null } } },
      api().mergePatch,
    );
  };
  /** Polls the Rollout until `until` says done; a Rollout that aborts fails with its analysis. */
  const followRollout = async (
    service: string,
    until: (rollout: RolloutLike) => Promise<boolean> | boolean,
    { timeoutMs, weight, progress }: { timeoutMs: number; weight: number; progress?: Progress },
  ): Promise<RolloutLike> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const rollout = await getRollout(service);
      if (!rollout) throw new Error(`Rollout ${namespace}/${service} is gone`);
      const state = rolloutState(rollout);
      if (state.state === 'aborted')
        throw await failedAnalysis(service, rollout, weight, state.detail);
      if (await until(rollout)) return rollout;
      progress?.(state.detail);
      if (Date.now() > deadline)
        throw new Error(
          `the Rollout did not get there in ${Math.round(timeoutMs / 1000)} s: ${state.detail}`,
        );
      await sleep(POLL_MS);
    }
  };
  const valuesFile = async (
    service: string,
    overrides: Record<string, unknown>,
  ): Promise<{ file: string; done: () => Promise<void> }> => {
    const all = parse(
      await readFile(join(options.environmentsDir, k8s.valuesFile), 'utf8'),
    ) as Record<string, unknown>;
    const own = (all[service] ?? {}) as Record<string, unknown>;
    const global = {
      ...(all['global'] as Record<string, unknown> | undefined),
      ...(options.imageRegistry ? { imageRegistry: options.imageRegistry } : {}),
    };
    const values = deepMerge({ global, ...own }, overrides);
    const dir = await mkdtemp(join(tmpdir(), 'flotilla-values-'));
    const file = join(dir, `${service}.yaml`);
    await writeFile(file, stringify(values), { mode: 0o600 });
    return { file, done: () => rm(dir, { recursive: true, force: true }) };
  };
  const helmArgs = ['--namespace', namespace, '--kube-context', context];
  const rollback = async (service: string, revision: number | undefined) => {
    if (revision === undefined) return;
    await helm(['rollback', service, String(revision), ...helmArgs, '--wait=false']);
  };

  const platform: Platform = {
    name: 'kubernetes',
    supports(service, strategy) {
      const configured = chartStrategy(service);
      if (usesRollout(strategy) !== usesRollout(configured)) {
        return (
          `${service} runs as ${usesRollout(configured) ? 'an Argo Rollout' : 'a Deployment'} in ${environment.name} (strategy ${configured}); ` +
          `${strategy} would replace the workload. Change the environment's strategy (and its Helm values) in a reviewed commit instead.`
        );
      }
      return true;
    },
    sharedPort: () => false,
    // The chart runs them as its pre-install/pre-upgrade Job: a failed migration fails `start`.
    migrations: () => false,
    smokeTests: false,

    async current(service) {
      const workload = (await getRollout(service)) ?? (await getDeployment(service));
      if (!workload) return { versions: [] };
      const version = imageTagOf(workload) ?? 'unknown';
      const released = (await ledger().history(service)).findLast(
        (r) => r.result === 'released' && r.version === version,
      );
      const label = released?.label ?? `${version}-r0`;
      return {
        stable: { version, label },
        versions: [{ label, version, weight: 100 }],
      } satisfies Current;
    },
    history: (service) => ledger().history(service),
    record: (release) => ledger().record(release),
    lockState: (service) => locks().state(service),
    acquire: (service, holder) => locks().acquire(service, holder),

    artefactAvailable: () => Promise.resolve(true),
    build(service, artefact, _label, progress) {
      const registry = options.imageRegistry ?? "the values' global.imageRegistry";
      progress(
        `image ${registry}/${service}:${artefact.version}, built and pushed by CI (nx docker-build, docker-push)`,
      );
      return Promise.resolve();
    },
    migrate: () => Promise.resolve(),
    async start(service, artefact, label, { settings, strategy }) {
      const configured = chartStrategy(service);
      const previous = (await helmHistory(service, namespace, context))
        .filter((h) => h.status === 'deployed')
        .at(-1)?.revision;
      const recorded = /^helm-revision:(\d+)$/.exec(artefact.location ?? '')?.[1];
      const inHistory =
        recorded !== undefined &&
        (await helmHistory(service, namespace, context)).some(
          (h) => h.revision === Number(recorded),
        );
      if (inHistory) {
        // Back to a release Helm still holds: exactly its chart and values, as a new revision.
        await helm(['rollback', service, recorded, ...helmArgs, '--wait=false']);
      } else {
        const chart = await packChart(join(workspace, 'helm'), service);
        try {
          const values = await valuesFile(service, {
            image: { tag: artefact.version },
            strategy: {
              type: strategy === 'rolling' && usesRollout(configured) ? configured : strategy,
            },
            podAnnotations: { 'flotilla.dev/release': label },
            ...(Object.keys(settings).length > 0 ? { env: settings } : {}),
          });
          try {
            await helm([
              'upgrade',
              '--install',
              service,
              chart.dir,
              ...helmArgs,
              '--values',
              values.file,
              '--history-max',
              '10',
              '--timeout',
              `${Math.ceil(environment.readyTimeout / 1000)}s`,
            ]);
          } finally {
            await values.done();
          }
        } finally {
          await chart.done();
        }
      }
      const revision = (await helmHistory(service, namespace, context)).at(-1)?.revision ?? 0;
      const handle: Handle = {
        kind: usesRollout(configured) ? 'Rollout' : 'Deployment',
        helmRevision: revision,
        previousHelmRevision: previous,
        release: `${namespace}/${service}`,
      };
      return { service, label, version: artefact.version, handle };
    },
    async ready(candidate, timeoutMs, progress) {
      const { service } = candidate;
      if (handleOf(candidate).kind === 'Deployment') {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const deployment = await getDeployment(service);
          const state = deployment
            ? deploymentProgress(deployment)
            : { state: 'progressing' as const, detail: 'no Deployment yet' };
          if (state.state === 'done') return;
          if (state.state === 'failed') throw new Error(`the rollout failed: ${state.detail}`);
          if (Date.now() > deadline) {
            throw new Error(
              `not ready after ${Math.round(timeoutMs / 1000)} s (${state.detail}): the new pods' readiness never passed`,
            );
          }
          progress(state.detail);
          await sleep(POLL_MS);
        }
      }
      // A Rollout: the new pods up at its first pause (or done, for a first install).
      await followRollout(
        service,
        (r) => {
          const state = rolloutState(r);
          return state.state === 'healthy' || state.state === 'paused';
        },
        { timeoutMs, weight: 0, progress },
      );
    },
    smoke: () => Promise.resolve(),
    async shift(candidate, weight) {
      const { service } = candidate;
      if (handleOf(candidate).kind === 'Deployment') return; // the Deployment moved the traffic while it rolled out
      const timeoutMs = environment.readyTimeout;
      if (weight >= 100) {
        // The last steps: promote any pause left (blue-green's switch, an approval), until stable.
        await followRollout(
          service,
          async (r) => {
            const state = rolloutState(r);
            if (state.state === 'paused') await promote(service, r);
            return state.state === 'healthy';
          },
          { timeoutMs, weight },
        );
        return;
      }
      await followRollout(
        service,
        async (r) => {
          const state = rolloutState(r);
          // followRollout has thrown on an aborted Rollout already.
          if (state.state === 'healthy' || state.state === 'aborted') return true;
          const at = stepOfWeight(r, weight) ?? 0;
          if (state.state === 'paused' && state.indefinite && state.step < at)
            await promote(service, r);
          return state.step > at;
        },
        { timeoutMs, weight },
      );
    },
    async analyse(candidate, step, report) {
      const { service } = candidate;
      if (handleOf(candidate).kind === 'Deployment') return [];
      const measurements: Figures[] = [];
      let last = '';
      const rollout = await followRollout(
        service,
        async (r) => {
          const figures = await latestFigures(service, r, step.weight);
          if (figures && figures.reason !== last) {
            last = figures.reason;
            measurements.push(figures);
            report(figures);
          }
          const state = rolloutState(r);
          const at = stepOfWeight(r, step.weight);
          // Done with this step when the Rollout moves past its pause (or finished).
          if (state.state === 'healthy' || state.state === 'aborted') return true;
          return at !== undefined && state.step > at + 1;
        },
        { timeoutMs: step.pauseMs + environment.readyTimeout, weight: step.weight },
      );
      const final = await latestFigures(service, rollout, step.weight);
      if (final && final.reason !== last) measurements.push(final);
      return measurements;
    },
    async retire(candidate, progress) {
      if (handleOf(candidate).kind === 'Deployment') return;
      await followRollout(candidate.service, (r) => rolloutState(r).state === 'healthy', {
        timeoutMs: environment.readyTimeout,
        weight: 100,
        progress,
      });
      progress('the old ReplicaSet scales down after its scale-down delay');
    },
    async abort(candidate) {
      const { service } = candidate;
      const handle = handleOf(candidate);
      if (handle.kind === 'Rollout') {
        const rollout = await getRollout(service);
        if (rollout && !rollout.status?.abort && rolloutState(rollout).state !== 'healthy') {
          await api().custom.patchNamespacedCustomObjectStatus(
            {
              ...ROLLOUTS,
              namespace,
              plural: 'rollouts',
              name: service,
              body: { status: { abort: true } },
            },
            api().mergePatch,
          );
        }
      }
      // Back to what ran before: Helm's previous revision (the Rollout then goes back to stable).
      await rollback(service, handle.previousHelmRevision);
      if (handle.kind === 'Rollout') {
        // The aborted Rollout stays marked aborted until the rolled-back spec is its stable one.
        const deadline = Date.now() + environment.readyTimeout;
        for (;;) {
          const r = await getRollout(service);
          const s = r?.status;
          if (
            r &&
            (rolloutState(r).state === 'healthy' ||
              (s?.currentPodHash && s.currentPodHash === s.stableRS))
          )
            break;
          if (Date.now() > deadline) {
            throw new Error(
              `the Rollout did not return to its stable version in ${Math.round(environment.readyTimeout / 1000)} s`,
            );
          }
          await sleep(POLL_MS);
        }
      }
    },
    watch: () => () => undefined,
    candidateOf: candidateOfRecord,
    artefactOf(release) {
      // A rollback returns to the Helm revision that release made, when Helm still holds it.
      const revision = release.handle?.['helmRevision'];
      return {
        version: release.version,
        dirty: false,
        ...(typeof revision === 'number' ? { location: `helm-revision:${revision}` } : {}),
      };
    },
  };
  return platform;
}

function deepMerge(
  base: Record<string, unknown>,
  over: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] =
      value &&
      typeof value === 'object' &&
      !Array.isArray(value) &&
      current &&
      typeof current === 'object' &&
      !Array.isArray(current)
        ? deepMerge(current as Record<string, unknown>, value as Record<string, unknown>)
        : value;
  }
  return out;
}
