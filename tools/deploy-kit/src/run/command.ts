import { readFile, readdir, mkdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { context } from '@opentelemetry/api';
import { flotillaHome, localSystemStore, stateDir } from '@flotilla/scripts/local-system';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import {
  EnvironmentError,
  SERVICES,
  STRATEGIES,
  parseEnvironment,
  type Environment,
  type ServiceName,
} from '../core/environment.ts';
import { formatPlan, formatReport, formatMarkdown } from '../core/format.ts';
import { previousRelease, type ReleaseRecord } from '../core/ledger.ts';
import {
  EXIT,
  planRelease,
  unfinished,
  type Artefact,
  type Plan,
  type PlanRequest,
  type ReleasePlan,
} from '../core/plan.ts';
import { artefactOf, whoRuns } from '../git.ts';
import { createKubernetesPlatform } from '../platforms/kubernetes/kubernetes.platform.ts';
import { createLocalPlatform } from '../platforms/local/local.platform.ts';
import {
  LockHeldError,
  UsageError,
  type AnalysisSource,
  type Platform,
} from '../platforms/platform.ts';
import { gatewayMetricsSource } from '../sources/gateway-metrics.ts';
import { prometheusSource } from '../sources/prometheus.ts';
import { gatewayAnalysisLoad } from './analysis-load.ts';
import { releaseChart } from './chart.ts';
import { createLiveView } from './live-view.ts';
import {
  recoverRelease,
  runRelease,
  systemClock,
  type Clock,
  type ReleaseEvent,
} from './runner.ts';
import { pushDeliveryMetrics, releaseTrace } from './telemetry.ts';

const common = {
  service: z.enum(SERVICES),
  env: z.string().regex(/^[a-z][a-z0-9-]*$/, 'an environment name such as dev or staging'),
  output: z.enum(['text', 'json']).default('text'),
};

export const deployOptionsSchema = z.strictObject({
  ...common,
  dryRun: z.boolean().default(false),
  strategy: z.enum(STRATEGIES).optional(),
  version: z
    .string()
    .regex(/^[0-9a-f]{12}(-dirty)?$/, 'a 12-character commit id (as image tags have it)')
    .optional(),
  approve: z.boolean().default(false),
  force: z.boolean().default(false),
  set: z
    .array(
      z.string().regex(/^[A-Z][A-Z0-9_]*=.*$/s, 'KEY=VALUE, KEY a config key such as LOG_LEVEL'),
    )
    .default([]),
});
export const rollbackOptionsSchema = z.strictObject({
  ...common,
  to: z.string().min(1).optional(),
  dryRun: z.boolean().default(false),
});
export const statusOptionsSchema = z.strictObject(common);

export type DeployOptions = z.input<typeof deployOptionsSchema>;
export type RollbackOptions = z.input<typeof rollbackOptionsSchema>;
export type StatusOptions = z.input<typeof statusOptionsSchema>;

/** Where a command reads and writes: the process's streams and environment, or a test's. */
export interface CommandIO {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: Readonly<Record<string, string | undefined>>;
  workspace: string;
  clock?: Clock;
  /** Aborting rolls a running release back (Ctrl-C). */
  signal?: AbortSignal;
}

const say = (stream: NodeJS.WritableStream, text: string) => stream.write(`${text}\n`);

function parseOptions<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) {
    throw new UsageError(
      result.error.issues
        .map(
          (i) =>
            `--${i.path.join('.').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ${i.message}`,
        )
        .join('\n'),
    );
  }
  return result.data;
}

/** `deploy/environments/<name>.yaml`, validated (FLOTILLA_ENVIRONMENTS moves the folder). */
export async function loadEnvironment(name: string, io: CommandIO): Promise<Environment> {
  const dir = environmentsDir(io);
  const file = join(dir, `${name}.yaml`);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    const known = (await readdir(dir).catch(() => [] as string[]))
      .filter((f) => f.endsWith('.yaml') && !f.startsWith('values-'))
      .map((f) => f.slice(0, -5));
    throw new UsageError(
      `no environment "${name}" (${file}); the environments are ${known.join(', ') || 'none'}`,
    );
  }
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (err) {
    throw new EnvironmentError(relative(io.workspace, file), [
      `not YAML: ${(err as Error).message}`,
    ]);
  }
  return parseEnvironment(name, relative(io.workspace, file), data);
}

/** The platform an environment names. */
export function platformFor(environment: Environment, io: CommandIO): Platform {
  if (environment.platform === 'local') {
    return createLocalPlatform({
      environment: environment.name,
      home: flotillaHome(io.env, io.workspace),
      stateDir: stateDir(io.env, io.workspace),
      workspace: io.workspace,
    });
  }
  return createKubernetesPlatform({
    environment,
    environmentsDir: environmentsDir(io),
    workspace: io.workspace,
    ...(io.env['KUBECONFIG'] ? { kubeconfig: io.env['KUBECONFIG'] } : {}),
    ...(io.env['IMAGE_REGISTRY'] ? { imageRegistry: io.env['IMAGE_REGISTRY'] } : {}),
  });
}

/** Where the environment files are: FLOTILLA_ENVIRONMENTS, else deploy/environments. */
function environmentsDir(io: CommandIO): string {
  return io.env['FLOTILLA_ENVIRONMENTS'] ?? join(io.workspace, 'deploy/environments');
}

function sourceFor(environment: Environment, io: CommandIO): AnalysisSource {
  const { analysis } = environment;
  if (analysis.source === 'prometheus') return prometheusSource(analysis.prometheusUrl ?? '');
  const store = localSystemStore(stateDir(io.env, io.workspace));
  return gatewayMetricsSource(() => {
    const system = store.readSystem();
    if (!system) return Promise.reject(new Error('the local system is not running'));
    return Promise.resolve(`${system.gateway.url}/metrics`);
  });
}

async function askApproval(io: CommandIO, question: string): Promise<boolean> {
  const rl = createInterface({ input: io.stdin, output: io.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

/** Runs a command body, turning known errors into their exit codes and messages. */
async function guarded(io: CommandIO, name: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof UsageError || err instanceof EnvironmentError) {
      say(io.stderr, `${name}: ${err.message}`);
      return EXIT.usage;
    }
    if (err instanceof LockHeldError) {
      say(
        io.stderr,
        `${name}: refused: a release is in progress (${err.message}); wait for it, or see deploy-status`,
      );
      return EXIT.refused;
    }
    say(io.stderr, `${name}: ${(err as Error).stack ?? String(err)}`);
    return EXIT.failed;
  }
}

/** Writes the report as markdown, JSON and an SVG chart under dist/deploy/. */
async function writeReport(
  io: CommandIO,
  release: ReleaseRecord,
  plan: ReleasePlan,
): Promise<string[]> {
  const dir = join(io.workspace, 'dist/deploy');
  await mkdir(dir, { recursive: true });
  const base = `${release.service}-${release.environment}-r${release.revision}`;
  const svg = await releaseChart(release, plan.analysis).catch(() => undefined);
  if (svg) await writeFile(join(dir, `${base}.svg`), svg);
  await writeFile(
    join(dir, `${base}.md`),
    formatMarkdown(release, svg ? `${base}.svg` : undefined),
  );
  await writeFile(join(dir, `${base}.json`), `${JSON.stringify(release, null, 2)}\n`);
  return [`${base}.md`, `${base}.json`, ...(svg ? [`${base}.svg`] : [])].map((f) =>
    relative(io.workspace, join(dir, f)),
  );
}

/**
 * Carries out a plan: takes the lock, undoes what an interrupted release left (then plans again
 * from what runs after that), runs the release with its live view, writes the report, sends the
 * telemetry, lets the lock go.
 */
async function execute(
  first: ReleasePlan,
  replan: () => Promise<Plan>,
  platform: Platform,
  environment: Environment,
  io: CommandIO,
  settings: Record<string, string>,
  json: boolean,
): Promise<number> {
  const by = whoRuns(io.env, hostname());
  const clock = io.clock ?? systemClock;
  const lock = await platform.acquire(first.service, `${by}, pid ${process.pid}`);
  try {
    let plan = first;
    if (plan.recover) {
      if (!json)
        say(
          io.stdout,
          `undoing the unfinished release r${plan.recover.revision} (${plan.recover.label}) first`,
        );
      await recoverRelease(plan.recover, platform, clock);
      const again = await replan();
      if (again.kind !== 'release') {
        printPlan(io, again, json);
        return planExit(again);
      }
      plan = again;
    }
    const traced = releaseTrace(plan);
    const view = json ? undefined : createLiveView(plan, { tty: io.stdout.isTTY === true });
    const onEvent = (event: ReleaseEvent) => {
      traced.onEvent(event);
      view?.onEvent(event);
    };
    const loadTarget = platform.loadTarget?.();
    const load = loadTarget ? gatewayAnalysisLoad(plan.analysis, loadTarget) : undefined;
    const { release, exitCode } = await context.with(traced.context, () =>
      runRelease({
        plan,
        platform,
        source: sourceFor(environment, io),
        ...(load ? { load } : {}),
        clock,
        by,
        settings,
        onEvent,
        ...(io.signal ? { signal: io.signal } : {}),
      }),
    );
    await view?.done;
    const files = await writeReport(io, release, plan);
    const pushgateway = io.env['FLOTILLA_PUSHGATEWAY_URL'];
    if (pushgateway) {
      await pushDeliveryMetrics(
        pushgateway,
        plan.service,
        plan.environment,
        await platform.history(plan.service),
      ).catch((err: Error) =>
        say(
          io.stderr,
          `deploy: could not push the delivery metrics to ${pushgateway}: ${err.message}`,
        ),
      );
    }
    say(
      io.stdout,
      json
        ? JSON.stringify({ exitCode, release, report: files })
        : `\n${formatReport(release, files)}`,
    );
    return exitCode;
  } finally {
    await lock.release();
  }
}

function printPlan(io: CommandIO, plan: Plan, json: boolean): void {
  say(io.stdout, json ? JSON.stringify(plan, null, 2) : formatPlan(plan));
}

function planExit(plan: Plan): number {
  return plan.kind === 'refused' ? Math.min(...plan.refusals.map((r) => r.code)) : EXIT.released;
}

/**
 * Plans a release from what the platform says now: what runs, the history, the lock (unless this
 * command holds it already, after undoing what a killed deploy left).
 */
function planner(
  platform: Platform,
  service: ServiceName,
  fixed: Omit<
    PlanRequest,
    'service' | 'current' | 'history' | 'lock' | 'supports' | 'migrations' | 'sharedPort' | 'smoke'
  >,
) {
  return async (lockHeldByUs = false): Promise<Plan> =>
    planRelease({
      ...fixed,
      service,
      current: await platform.current(service),
      history: await platform.history(service),
      lock: lockHeldByUs ? undefined : await platform.lockState(service),
      supports: (s) => platform.supports(service, s),
      migrations: fixed.purpose === 'rollback' ? false : platform.migrations(service),
      sharedPort: platform.sharedPort(service),
      smoke: platform.smokeTests,
    });
}

/** `deploy <service> --env=<env>`: plan the release and carry it out (or print it with --dry-run). */
export function deploy(input: DeployOptions, io: CommandIO): Promise<number> {
  return guarded(io, 'deploy', async () => {
    const options = parseOptions(deployOptionsSchema, input);
    const json = options.output === 'json';
    const environment = await loadEnvironment(options.env, io);
    const platform = platformFor(environment, io);
    const workspaceArtefact = await artefactOf(options.service, io.workspace);
    const artefact: Artefact = options.version
      ? { version: options.version, dirty: options.version.endsWith('-dirty') }
      : workspaceArtefact;
    const available = await platform.artefactAvailable(
      options.service,
      artefact,
      artefact.version === workspaceArtefact.version,
    );
    if (available !== true) throw new UsageError(available);

    const upstream = environment.promoteFrom
      ? await platformFor(await loadEnvironment(environment.promoteFrom, io), io)
          .history(options.service)
          .catch(() => [] as ReleaseRecord[])
      : [];
    const approvedBy = io.env['FLOTILLA_APPROVED_BY']?.trim();
    let approval = {
      approved: options.approve || Boolean(approvedBy),
      ...(approvedBy ? { by: approvedBy } : {}),
    };
    const planWith = (approval: PlanRequest['approval']) =>
      planner(platform, options.service, {
        environment,
        artefact,
        upstreamHistory: upstream,
        approval,
        ...(options.strategy ? { strategy: options.strategy } : {}),
        force: options.force,
      });
    let makePlan = planWith(approval);
    let plan = await makePlan();
    const onlyApprovalMissing =
      plan.kind === 'refused' &&
      plan.refusals.length === 1 &&
      plan.refusals[0]?.gate === 'approval';
    if (
      onlyApprovalMissing &&
      !options.dryRun &&
      io.stdin.isTTY === true &&
      io.stdout.isTTY === true
    ) {
      const yes = await askApproval(
        io,
        `Release ${options.service} ${artefact.version} to ${environment.name}?`,
      );
      approval = { approved: yes, by: whoRuns(io.env, hostname()) };
      makePlan = planWith(approval);
      plan = await makePlan();
    }
    if (options.dryRun || plan.kind !== 'release') {
      printPlan(io, plan, json);
      return planExit(plan);
    }
    const settings = Object.fromEntries(
      options.set.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
    );
    if (!json) say(io.stdout, `${formatPlan(plan)}\n`);
    return execute(plan, () => makePlan(true), platform, environment, io, settings, json);
  });
}

/** `rollback <service> --env=<env> [--to=<version>]`: back to the previous successful release. */
export function rollback(input: RollbackOptions, io: CommandIO): Promise<number> {
  return guarded(io, 'rollback', async () => {
    const options = parseOptions(rollbackOptionsSchema, input);
    const json = options.output === 'json';
    const environment = await loadEnvironment(options.env, io);
    const platform = platformFor(environment, io);
    const [history, lock] = await Promise.all([
      platform.history(options.service),
      platform.lockState(options.service),
    ]);
    const left = lock?.stale ? unfinished(history) : undefined;
    if (left) {
      // A deploy died mid-release: undoing what it left is the rollback.
      if (options.dryRun) {
        say(
          io.stdout,
          `would undo the unfinished release r${left.revision} (${left.label}): traffic back to ${left.previous?.label ?? 'the old version'}, ${left.label} stopped`,
        );
        return EXIT.released;
      }
      const held = await platform.acquire(
        options.service,
        `${whoRuns(io.env, hostname())}, pid ${process.pid}`,
      );
      try {
        await recoverRelease(left, platform, io.clock ?? systemClock);
      } finally {
        await held.release();
      }
      say(
        io.stdout,
        `undid the unfinished release r${left.revision} (${left.label}): all traffic on ${left.previous?.label ?? 'the old version'}`,
      );
      return EXIT.released;
    }
    const current = await platform.current(options.service);
    const target = previousRelease(history, current.stable?.label, options.to);
    if (!target) {
      const before = history.findLast((r) => r.label === current.stable?.label)?.previous;
      throw new UsageError(
        options.to
          ? `no successful release of ${options.service} ${options.to} in ${environment.name}`
          : before?.version === 'workspace'
            ? `the version before ${current.stable?.label ?? 'this one'} is the one npm start ran from the sources (${before.label}): restart npm start to return to it`
            : `no earlier successful release of ${options.service} in ${environment.name} to return to`,
      );
    }
    const artefact = platform.artefactOf(target);
    const available = await platform.artefactAvailable(options.service, artefact, false);
    if (available !== true) throw new UsageError(available);
    const makePlan = planner(platform, options.service, {
      environment,
      artefact,
      upstreamHistory: [],
      approval: { approved: true },
      purpose: 'rollback',
    });
    const plan = await makePlan();
    if (options.dryRun || plan.kind !== 'release') {
      printPlan(io, plan, json);
      return planExit(plan);
    }
    if (!json) say(io.stdout, `${formatPlan(plan)}\n`);
    return execute(plan, () => makePlan(true), platform, environment, io, {}, json);
  });
}

/** `deploy-status <service> --env=<env>`: what runs now, the lock, the last releases. */
export function status(input: StatusOptions, io: CommandIO): Promise<number> {
  return guarded(io, 'deploy-status', async () => {
    const options = parseOptions(statusOptionsSchema, input);
    const environment = await loadEnvironment(options.env, io);
    const platform = platformFor(environment, io);
    const [current, history, lock] = await Promise.all([
      platform.current(options.service),
      platform.history(options.service),
      platform.lockState(options.service),
    ]);
    const left = lock?.stale || !lock ? unfinished(history) : undefined;
    if (options.output === 'json') {
      say(
        io.stdout,
        JSON.stringify({
          service: options.service,
          environment: environment.name,
          current,
          lock,
          unfinished: left,
          history: history.slice(-10),
        }),
      );
      return EXIT.released;
    }
    const lines = [
      `${options.service} in ${environment.name} (platform ${environment.platform})`,
      '  runs now',
    ];
    for (const v of current.versions) {
      const health = v.health
        ? v.health.alive && v.health.ready
          ? '  alive, ready'
          : `  ${v.health.alive ? 'alive, ' : ''}${v.health.detail ?? 'not ready'}`
        : '';
      lines.push(
        `    ${v.label.padEnd(24)} ${v.version.padEnd(14)} ${String(v.weight).padStart(3)}% of traffic${health}`,
      );
      if (v.health?.log) lines.push(`    ${''.padEnd(24)} log ${v.health.log}`);
    }
    if (current.versions.length === 0) lines.push('    nothing');
    lines.push(
      `  lock       ${lock ? `${lock.stale ? 'stale (its holder is gone)' : 'held'} by ${lock.holder} since ${lock.since}` : 'free'}`,
    );
    if (left) {
      lines.push(
        `  unfinished release r${left.revision} (${left.label}, ${left.strategy}, by ${left.by}): the deploy command stopped during it.`,
        `             The next deploy undoes it first; to undo it now: npx nx run ${options.service}:rollback --env=${environment.name}`,
      );
    }
    lines.push('  last releases');
    for (const r of history.slice(-10).reverse()) {
      lines.push(
        `    r${String(r.revision).padEnd(4)} ${r.version.padEnd(14)} ${r.strategy.padEnd(9)} ${r.result.padEnd(12)} ${r.durationMs === undefined ? '' : `${(r.durationMs / 1000).toFixed(1)} s  `}${r.startedAt}  ${r.by}`,
      );
    }
    if (history.length === 0) lines.push('    none');
    say(io.stdout, lines.join('\n'));
    return EXIT.released;
  });
}
