import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  isInstanceAlive,
  localSystemStore,
  type Instance,
  type ServiceState,
  type SystemState,
} from '@flotilla/scripts/local-system';
import { supervisorClient, type LiveInstance } from '@flotilla/scripts/supervisor-client';
import { RELEASE_TOKEN_HEADER } from '@flotilla/http';
import { freePort } from '@flotilla/testing';
import type { StrategyName } from '../../core/environment.ts';
import type { Artefact, Current } from '../../core/plan.ts';
import { smokeTest } from '../../smoke.ts';
import {
  UsageError,
  candidateOfRecord,
  type Candidate,
  type Platform,
  type Progress,
} from '../platform.ts';
import { fileLedger, fileLocks } from './files.ts';

/** How a built app starts: its tracing loaded first, as its image starts it. */
const ARTEFACT_ARGS = ['--enable-source-maps', '--import', './instrumentation.js', 'main.js'];
/** How often a watched candidate's process is looked at. */
const WATCH_EVERY_MS = 500;

export interface LocalPlatformOptions {
  environment: string;
  /** FLOTILLA_HOME: artefacts, ledgers and locks live here. */
  home: string;
  /** The running system's state folder (`<home>/local` unless FLOTILLA_HOME moves it). */
  stateDir: string;
  workspace: string;
}

interface Versions {
  version: string;
  url: string;
  weight: number;
}

/**
 * The local platform: the system `npm start` runs on this machine. A new version is its own
 * process, started from its build beside the old one; the gateway's admin API moves the traffic
 * (its mesh listener carries the services' calls to each other, so those follow the weights too).
 * The gateway itself takes over its port with SO_REUSEPORT, the old one draining.
 */
export function createLocalPlatform(options: LocalPlatformOptions): Platform {
  const store = localSystemStore(options.stateDir);
  const ledger = fileLedger(join(options.home, 'releases', options.environment));
  const locks = fileLocks(join(options.home, 'locks', options.environment));
  const artefactDir = (service: string, key: string) =>
    join(options.home, 'artefacts', service, key);
  // A clean version is built once; a dirty tree is built again for each release.
  const dirOf = (service: string, artefact: Artefact, label: string) =>
    artefact.location ?? artefactDir(service, artefact.dirty ? label : artefact.version);

  const system = (): SystemState => {
    const state = store.readSystem();
    if (!state || !isInstanceAlive({ pid: state.pid, dir: state.workspace })) {
      throw new UsageError(
        'no Flotilla system runs on this machine: start it with `npm start` (in another terminal), then deploy to local',
      );
    }
    return state;
  };
  const service = (name: string): ServiceState => {
    const state = store.readService(name);
    if (!state)
      throw new UsageError(`${name} is not part of the running system (npm start ${name})`);
    return state;
  };
  const live = (name: string) =>
    service(name).instances.filter((i) => !i.exit && isInstanceAlive(i));

  const admin = async (path: string, init: RequestInit = {}) => {
    const gateway = live('gateway')[0];
    if (!gateway) throw new Error('the gateway is not running');
    const res = await fetch(`http://127.0.0.1:${gateway.adminPort}${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${system().adminToken}`,
        ...(init.body ? { 'content-type': 'application/json' } : {}),
      },
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    if (!res.ok)
      throw new Error(
        `gateway admin ${init.method ?? 'GET'} ${path} answered ${res.status}: ${text}`,
      );
    return JSON.parse(text) as unknown;
  };
  const table = async (name: string) =>
    ((await admin('/admin/upstreams')) as Record<string, Versions[]>)[name] ?? [];
  const setTable = (name: string, versions: Versions[]) =>
    admin(`/admin/upstreams/${name}`, { method: 'PUT', body: JSON.stringify({ versions }) });
  const urlOf = (instance: Pick<Instance, 'port'>) => `http://127.0.0.1:${instance.port}`;

  const supervisor = () => supervisorClient(system());
  const stop = async (name: string, instance: Instance) => {
    await supervisor().stop(name, instance.label);
  };
  /** Asks the supervisor (npm start) to start an instance: it owns the process, not this command. */
  const launch = (
    name: string,
    instance: Omit<Instance, 'pid' | 'startedAt' | 'log' | 'startedBy'>,
    env: Record<string, string>,
    startedBy: string,
  ) =>
    supervisor().start(name, {
      label: instance.label,
      version: instance.version,
      dir: instance.dir,
      args: instance.args,
      port: instance.port,
      adminPort: instance.adminPort,
      env,
      startedBy,
    });
  const instanceOf = (candidate: Candidate): Instance => candidate.handle['instance'] as Instance;
  /** Whether an instance answers its readiness (the gateway: its admin API, which opens once ready). */
  const readiness = async (name: string, instance: Instance): Promise<true | string> => {
    const gateway = name === 'gateway';
    const url = gateway
      ? `http://127.0.0.1:${instance.adminPort}/admin/faults`
      : `${urlOf(instance)}/ready`;
    try {
      const res = await fetch(url, {
        headers: gateway ? { authorization: `Bearer ${system().adminToken}` } : {},
        signal: AbortSignal.timeout(2000),
      });
      if (res.ok) return true;
      return `${res.status} ${(await res.text()).slice(0, 200)}`;
    } catch (err) {
      return (err as Error).message;
    }
  };
  const healthOf = async (name: string, instance: LiveInstance) => {
    if (!instance.alive) {
      const how = instance.exit ? ` (exited ${instance.exit.signal ?? instance.exit.code})` : '';
      return { alive: false, ready: false, detail: `not running${how}`, log: instance.log };
    }
    const ready = await readiness(name, instance);
    return {
      alive: true,
      ready: ready === true,
      ...(ready === true ? {} : { detail: `not ready: ${ready}` }),
      log: instance.log,
    };
  };

  const platform: Platform = {
    name: 'local',
    supports(name: string, strategy: StrategyName) {
      if (name === 'gateway' && strategy !== 'rolling') {
        return (
          `the local platform releases the gateway rolling only: it is the entry point, and on one machine ` +
          `nothing stands in front of it to switch or split its traffic (SO_REUSEPORT shares connections by hash, ` +
          `not by weight); on Kubernetes its Service and ingress do. Use --strategy=rolling.`
        );
      }
      return true;
    },
    sharedPort: (name) => name === 'gateway',
    smokeTests: true,
    migrations: (name) => service(name).env['DATABASE_URL'] !== undefined,

    async current(name) {
      system();
      const instances = await supervisor().instances(name);
      const alive = instances.filter((i) => i.alive);
      const weights = name === 'gateway' ? [] : await table(name);
      const versions = await Promise.all(
        instances.map(async (i) => ({
          label: i.label,
          version: i.version,
          weight:
            name === 'gateway'
              ? i.alive
                ? Math.round(100 / alive.length)
                : 0
              : (weights.find((w) => w.version === i.label)?.weight ?? 0),
          health: await healthOf(name, i),
        })),
      );
      // A version the gateway routes to with no process behind it: the truth, not a silent gap.
      for (const w of weights) {
        if (!instances.some((i) => i.label === w.version)) {
          versions.push({
            label: w.version,
            version: w.version,
            weight: w.weight,
            health: {
              alive: false,
              ready: false,
              detail: `nothing listens at ${w.url}`,
              log: undefined,
            },
          });
        }
      }
      const top = [...versions].sort((a, b) => b.weight - a.weight)[0];
      return {
        versions,
        ...(top && top.weight > 0 ? { stable: { version: top.version, label: top.label } } : {}),
      } satisfies Current;
    },
    history: (name) => ledger.history(name),
    record: (release) => ledger.record(release),
    lockState: (name) => locks.state(name),
    acquire: (name, holder) => locks.acquire(name, holder),

    artefactAvailable(name, artefact, buildable) {
      const built =
        artefact.location ?? (artefact.dirty ? undefined : artefactDir(name, artefact.version));
      if (buildable || (built && existsSync(join(built, 'main.js')))) return Promise.resolve(true);
      return Promise.resolve(
        `${name} ${artefact.version} is not built on this machine: check out that commit and deploy from there, or deploy the current one`,
      );
    },
    async build(name, artefact, label, progress) {
      const dir = dirOf(name, artefact, label);
      if ((artefact.location || !artefact.dirty) && existsSync(join(dir, 'main.js'))) {
        progress(`already built: ${dir}`);
        return;
      }
      await runNode(
        `nx build ${name}`,
        [join(options.workspace, 'node_modules/.bin/nx'), 'build', name, '--output-style=static'],
        {
          cwd: options.workspace,
          env: { NX_DAEMON: 'false', NX_NO_CLOUD: 'true', FORCE_COLOR: '0' },
        },
        progress,
      );
      await rm(dir, { recursive: true, force: true });
      await mkdir(join(dir, '..'), { recursive: true });
      await cp(join(options.workspace, 'dist/apps', name), dir, { recursive: true });
      // The packages the bundle imports, as installed in the workspace: the versions its pruned
      // lockfile names, which an image installs with npm ci.
      await symlink(join(options.workspace, 'node_modules'), join(dir, 'node_modules'), 'dir');
      progress(`built into ${dir}`);
    },
    async migrate(name, artefact, label, progress) {
      await runNode(
        'migrations',
        ['migrate.js'],
        { cwd: dirOf(name, artefact, label), env: service(name).env },
        progress,
      );
    },
    async start(name, artefact, label, { settings }) {
      const sys = system();
      const before = live(name);
      const gateway = name === 'gateway';
      const port = gateway
        ? (before[0]?.port ?? Number(new URL(sys.gateway.url).port))
        : await freePort();
      const env: Record<string, string> = {
        PORT: String(port),
        ADMIN_PORT: String(await freePort()),
        SERVICE_VERSION: label,
        MIGRATE_ON_START: 'false',
        ...(gateway
          ? { HTTP_REUSE_PORT: 'true', UPSTREAMS: JSON.stringify(await admin('/admin/upstreams')) }
          : {}),
        ...settings,
      };
      const instance = await launch(
        name,
        {
          label,
          version: artefact.version,
          port,
          adminPort: Number(env['ADMIN_PORT']),
          dir: dirOf(name, artefact, label),
          args: ARTEFACT_ARGS,
        },
        env,
        'deploy',
      );
      if (!gateway) {
        const versions = (await table(name)).filter((v) => v.version !== label);
        await setTable(name, [...versions, { version: label, url: urlOf(instance), weight: 0 }]);
      }
      return {
        service: name,
        label,
        version: artefact.version,
        handle: { pid: instance.pid, port, log: instance.log ?? '', instance, previous: before },
      };
    },
    async ready(candidate, timeoutMs, progress) {
      const instance = instanceOf(candidate);
      const deadline = Date.now() + timeoutMs;
      let last = 'no answer yet';
      while (Date.now() < deadline) {
        const ready = await readiness(candidate.service, instance);
        if (ready === true) return;
        last = ready;
        progress(`not ready yet (${last})`);
        await sleep(250);
      }
      throw new Error(
        `not ready after ${timeoutMs} ms: ${last}; its output is in ${instance.log ?? 'its log'}`,
      );
    },
    async smoke(candidate, progress) {
      const { gateway, adminToken } = system();
      await smokeTest(
        gateway.url,
        candidate.service,
        candidate.service === 'gateway' ? undefined : candidate.label,
        progress,
        adminToken,
      );
    },
    async shift(candidate, weight) {
      if (candidate.service === 'gateway') return;
      const versions = await table(candidate.service);
      const stable = versions.filter((v) => v.version !== candidate.label);
      const lead = stable.findLast((v) => v.weight > 0) ?? stable.at(-1);
      await setTable(candidate.service, [
        ...stable.map((v) => ({ ...v, weight: v === lead ? 100 - weight : 0 })),
        { version: candidate.label, url: urlOf(instanceOf(candidate)), weight },
      ]);
    },
    async retire(candidate, progress) {
      const olds = service(candidate.service).instances.filter((i) => i.label !== candidate.label);
      if (candidate.service !== 'gateway') {
        await setTable(candidate.service, [
          { version: candidate.label, url: urlOf(instanceOf(candidate)), weight: 100 },
        ]);
      }
      for (const old of olds) {
        progress(`draining ${old.label} (pid ${old.pid})`);
        await stop(candidate.service, old);
      }
    },
    async abort(candidate, stable) {
      const name = candidate.service;
      const instance = instanceOf(candidate);
      const previous = (candidate.handle['previous'] as Instance[] | undefined) ?? [];
      const survivor = live(name).find((i) => i.label !== candidate.label);
      if (!survivor && stable) {
        // The old version was retired already (a gateway whose smoke test failed): start it again.
        const old = previous.find((i) => i.label === stable.label) ?? previous[0];
        if (!old) throw new Error(`${stable.label} is gone and there is nothing to start it from`);
        await launch(
          name,
          old,
          {
            PORT: String(old.port),
            ADMIN_PORT: String(old.adminPort),
            SERVICE_VERSION: old.label,
            MIGRATE_ON_START: 'false',
            ...(name === 'gateway'
              ? {
                  HTTP_REUSE_PORT: 'true',
                  UPSTREAMS: JSON.stringify(await admin('/admin/upstreams').catch(() => ({}))),
                }
              : {}),
          },
          'rollback',
        );
        await platform.ready(
          { ...candidate, label: old.label, handle: { instance: old } },
          60_000,
          () => undefined,
        );
      }
      if (name !== 'gateway') {
        const versions = (await table(name)).filter((v) => v.version !== candidate.label);
        const back = versions.find((v) => v.version === stable?.label) ?? versions[0];
        if (!back) throw new Error(`no other version of ${name} is registered at the gateway`);
        await setTable(
          name,
          versions.map((v) => ({ ...v, weight: v === back ? 100 : 0 })),
        );
      }
      await stop(name, instance);
    },
    loadTarget() {
      const { gateway, adminToken } = system();
      return { url: gateway.url, headers: { [RELEASE_TOKEN_HEADER]: adminToken } };
    },
    watch(candidate, onExit) {
      const instance = instanceOf(candidate);
      // The supervisor owns the process: its state says when it exits.
      const timer = setInterval(() => {
        const now = service(candidate.service).instances.find((i) => i.label === candidate.label);
        if (now && !now.exit && isInstanceAlive(now)) return;
        clearInterval(timer);
        const how = now?.exit ? ` (${now.exit.signal ?? now.exit.code})` : '';
        onExit(`the process exited${how}; its output is in ${instance.log ?? 'its log'}`);
      }, WATCH_EVERY_MS);
      timer.unref();
      return () => clearInterval(timer);
    },
    artefactOf(release) {
      const instance = release.handle?.['instance'] as Instance | undefined;
      return {
        version: release.version,
        dirty: release.version.endsWith('-dirty'),
        ...(instance ? { location: instance.dir } : {}),
      };
    },
    candidateOf: candidateOfRecord,
  };
  return platform;
}

/** Runs node with `args`, reporting its last line of output; rejects with the end of its output. */
function runNode(
  what: string,
  args: string[],
  { cwd, env }: { cwd: string; env: Record<string, string> },
  progress: Progress,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const onData = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
      const line = chunk.toString().trim().split('\n').at(-1);
      if (line) progress(line.slice(0, 120));
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${what} failed (exit ${code}):\n${output}`)),
    );
  });
}
