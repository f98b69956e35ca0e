import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, closeSync } from 'node:fs';
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
/** How long a drained process may take before it is killed (its own limit is 25 s). */
const STOP_GRACE_MS = 35_000;

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
  const children = new Map<string, ChildProcess>();
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
  const live = (name: string) => service(name).instances.filter((i) => isInstanceAlive(i));

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

  const stop = async (instance: Instance) => {
    if (!isInstanceAlive(instance)) return;
    process.kill(instance.pid, 'SIGTERM');
    const deadline = Date.now() + STOP_GRACE_MS;
    while (isInstanceAlive(instance) && Date.now() < deadline) await sleep(100);
    if (isInstanceAlive(instance)) process.kill(instance.pid, 'SIGKILL');
  };
  const removeFromState = (name: string, labels: readonly string[]) => {
    const state = service(name);
    store.writeService({
      ...state,
      instances: state.instances.filter((i) => !labels.includes(i.label)),
    });
  };
  const launch = (
    name: string,
    instance: Omit<Instance, 'pid' | 'startedAt'>,
    env: Record<string, string>,
  ) => {
    const log = instance.log ?? join(store.logsDir, `${name}-${instance.label}.log`);
    const fd = openSync(log, 'a', 0o600);
    // Detached: the process outlives this command, so a deploy that dies leaves the system serving.
    const child = spawn(process.execPath, instance.args, {
      cwd: instance.dir,
      env: { ...process.env, ...service(name).env, ...env },
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    child.unref();
    children.set(`${name}/${instance.label}`, child);
    const started: Instance = {
      ...instance,
      log,
      pid: child.pid ?? 0,
      startedAt: new Date().toISOString(),
    };
    const state = service(name);
    store.writeService({
      ...state,
      instances: [...state.instances.filter((i) => i.label !== instance.label), started],
    });
    return started;
  };
  const instanceOf = (candidate: Candidate): Instance => candidate.handle['instance'] as Instance;

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
      const instances = live(name);
      const weights = name === 'gateway' ? [] : await table(name);
      const versions = instances.map((i) => ({
        label: i.label,
        version: i.version,
        weight:
          name === 'gateway'
            ? Math.round(100 / instances.length)
            : (weights.find((w) => w.version === i.label)?.weight ?? 0),
      }));
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
      await mkdir(store.logsDir, { recursive: true });
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
      const instance = launch(
        name,
        {
          label,
          version: artefact.version,
          port,
          adminPort: Number(env['ADMIN_PORT']),
          dir: dirOf(name, artefact, label),
          args: ARTEFACT_ARGS,
          startedBy: 'deploy',
        },
        env,
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
      const gateway = candidate.service === 'gateway';
      // The gateway joins its port only once ready; its admin API listens after that.
      const url = gateway
        ? `http://127.0.0.1:${instance.adminPort}/admin/faults`
        : `${urlOf(instance)}/ready`;
      const headers: Record<string, string> = gateway
        ? { authorization: `Bearer ${system().adminToken}` }
        : {};
      const deadline = Date.now() + timeoutMs;
      let last = 'no answer yet';
      while (Date.now() < deadline) {
        try {
          const res = await fetch(url, { headers, signal: AbortSignal.timeout(2000) });
          if (res.ok) return;
          last = `${res.status} ${(await res.text()).slice(0, 200)}`;
        } catch (err) {
          last = (err as Error).message;
        }
        progress(`not ready yet (${last})`);
        await sleep(250);
      }
      throw new Error(
        `not ready after ${timeoutMs} ms: ${last}; its output is in ${instance.log ?? 'its log'}`,
      );
    },
    async smoke(candidate, progress) {
      const gateway = system().gateway.url;
      await smokeTest(
        gateway,
        candidate.service,
        candidate.service === 'gateway' ? undefined : candidate.label,
        progress,
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
      // Out of the state first: npm start then knows these exits are retirements, not crashes.
      removeFromState(
        candidate.service,
        olds.map((i) => i.label),
      );
      for (const old of olds) {
        progress(`draining ${old.label} (pid ${old.pid})`);
        await stop(old);
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
        launch(
          name,
          { ...old, startedBy: 'rollback' },
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
      removeFromState(name, [candidate.label]);
      await stop(instance);
    },
    watch(candidate, onExit) {
      const instance = instanceOf(candidate);
      const child = children.get(`${candidate.service}/${candidate.label}`);
      let watching = true;
      const exited = (code: number | null, signal: NodeJS.Signals | null) => {
        if (watching)
          onExit(
            `the process exited (${signal ?? code}); its output is in ${instance.log ?? 'its log'}`,
          );
      };
      child?.once('exit', exited);
      return () => {
        watching = false;
        child?.off('exit', exited);
      };
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
