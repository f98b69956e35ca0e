// The README's "Deploying" commands as a new user types them: in a clone of this repository, each
// command its own process through `npx nx`, a purchase load through the gateway during each one,
// and the system checked after the command has exited (the load kept on for 30 s, every request
// expected to succeed; what deploy-status says compared with what listens). Harmless commits and
// a commit whose routes answer 500, for different services; a deploy stopped by Ctrl-C and one
// killed outright; a dead version refused as a canary baseline and restored by a rolling release;
// `nx affected` after a change to one lib.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '@flotilla/testing';
import {
  GATEWAY,
  answersReady,
  cloneWorkspace,
  loadFor,
  parseStatus,
  readmeCommands,
  startLoad,
  startSystem,
  stoppedUnderLoad,
  tally,
  underLoad,
  upstreams,
  type Clone,
  type Watched,
} from '../src/user-path.ts';

type System = Awaited<ReturnType<typeof startSystem>>;

/** Each README command of the block, found by what it does; every line must be one of them. */
function commandsOf(lines: readonly string[]) {
  const find = (what: string, test: (line: string) => boolean) => {
    const line = lines.find(test);
    if (!line) throw new Error(`the README's Deploying block has no command that ${what}`);
    return line;
  };
  const commands = {
    start: find('starts the system', (l) => l === 'npm start'),
    dryRun: find('prints a plan', (l) => l.includes(':deploy') && l.includes('--dry-run')),
    canary: find('releases order-service by canary', (l) =>
      /^npx nx run order-service:deploy --env=local$/.test(l),
    ),
    blueGreen: find('releases payment-service blue-green', (l) =>
      /^npx nx run payment-service:deploy --env=local --strategy=blueGreen$/.test(l),
    ),
    rolling: find('releases user-service rolling', (l) =>
      /^npx nx run user-service:deploy --env=local --strategy=rolling$/.test(l),
    ),
    gateway: find('releases the gateway', (l) => /^npx nx run gateway:deploy --env=local$/.test(l)),
    status: find('shows deploy-status', (l) =>
      /^npx nx run order-service:deploy-status --env=local$/.test(l),
    ),
    rollback: find('rolls back', (l) => /^npx nx run order-service:rollback --env=local$/.test(l)),
    affected: find('releases what a change touches', (l) =>
      /^npx nx affected -t deploy --env=local$/.test(l),
    ),
  };
  const unused = lines.filter((l) => !Object.values(commands).includes(l));
  assert.deepEqual(unused, [], 'every command of the block is run by this suite');
  return commands;
}

const harmless = (text: string) => `${text}\n// A harmless change: ${Date.now()}\n`;

describe('the README’s Deploying commands, typed as a new user types them', () => {
  let clone: Clone;
  let system: System;
  let run: ReturnType<typeof commandsOf>;
  const figures: string[] = [];

  /** Every request of the load succeeded during the command and for 30 s after it exited. */
  const noFailure = (what: string, watched: Watched) => {
    figures.push(`${what}: during ${tally(watched.during)}; after ${tally(watched.after)}`);
    assert.equal(watched.during.requests.failed, 0, `${what}, during: ${tally(watched.during)}`);
    assert.equal(watched.after.requests.failed, 0, `${what}, 30 s after: ${tally(watched.after)}`);
    assert.ok(
      watched.after.requests.completed > 0,
      'the load after the command reached the system',
    );
  };

  /** What `deploy-status` reports for a service is what the gateway routes to and what answers. */
  const statusIsWhatListens = async (service: string) => {
    const ran = await clone.run(run.status.replace('order-service', service));
    assert.equal(ran.code, 0, ran.output);
    const reported = parseStatus(ran.output);
    assert.ok(reported.length > 0, `deploy-status listed no version:\n${ran.output}`);
    const live = clone.store().readService(service)?.instances ?? [];
    if (service !== 'gateway') {
      const table = (await upstreams(clone, system.system))[service] ?? [];
      assert.deepEqual(
        reported.map((v) => [v.label, v.weight]).sort(),
        table.map((v) => [v.version, v.weight]).sort(),
        `deploy-status against the gateway's table:\n${ran.output}`,
      );
    }
    for (const version of reported) {
      const instance = live.find((i) => i.label === version.label);
      const listens = instance ? await answersReady(`http://127.0.0.1:${instance.port}`) : false;
      assert.equal(
        version.alive && version.ready,
        listens,
        `${service} ${version.label}: deploy-status says ${version.alive ? 'alive' : 'dead'}, ` +
          `${version.ready ? 'ready' : 'not ready'}; its /ready ${listens ? 'answers' : 'does not answer'}`,
      );
    }
    return reported;
  };

  /** Starts the canary deploy under load, stops it with `signal` during its first analysis. */
  const deployStopped = (signal: NodeJS.Signals) =>
    stoppedUnderLoad(clone, run.canary, /❯ analyse\s+hold 10%/, signal);

  before(async () => {
    run = commandsOf(await readmeCommands('local'));
    clone = await cloneWorkspace();
    system = await startSystem(clone, run.start);
  });

  after(async () => {
    await system?.stop();
    await clone?.remove();
    if (figures.length > 0) console.log(`requests per command:\n  ${figures.join('\n  ')}`);
  });

  it('prints the plan with --dry-run and changes nothing', async () => {
    const before = await upstreams(clone, system.system);
    const ran = await clone.run(run.dryRun);
    assert.equal(ran.code, 0, ran.output);
    assert.match(ran.output, /Release plan: order-service to local/);
    assert.deepEqual(await upstreams(clone, system.system), before);
  });

  it('releases a harmless order-service commit by canary through Nx, and it serves after Nx has exited', async () => {
    await clone.commit('apps/order-service/src/app.ts', harmless, 'order-service: a comment');
    const watched = await underLoad(clone, run.canary);
    assert.equal(watched.ran.code, 0, watched.ran.output);
    assert.match(watched.ran.output, /RELEASED/);
    assert.match(watched.ran.output, /the kit's own load: \d+ requests/);
    noFailure('order-service canary', watched);
    const [version] = await statusIsWhatListens('order-service');
    assert.equal(version?.weight, 100);
    assert.notEqual(version?.label, 'v1');
  });

  it('rolls back a payment-service build whose routes answer 500, for its own failures, under the default limits', async () => {
    await clone.commit(
      'apps/payment-service/src/app.ts',
      (text) =>
        text.replace(
          'routes: (app) => app.use(paymentsRoutes(payments, deps.verifier)),',
          "routes: (app) => app.use('/payments', () => { throw new Error('a broken build'); }),",
        ),
      'payment-service: a broken build',
    );
    const bad = await underLoad(clone, run.blueGreen, { afterMs: 5_000 });
    assert.equal(bad.ran.code, 1, bad.ran.output);
    assert.match(bad.ran.output, /ROLLED BACK/);
    assert.match(bad.ran.output, /answered 500/, 'the report names the version’s own failure');
    assert.doesNotMatch(bad.ran.output, /answered 429/);
    assert.equal(bad.during.requests.failed, 0, tally(bad.during));

    clone.git('revert', '--no-edit', 'HEAD');
    const good = await underLoad(clone, run.blueGreen);
    assert.equal(good.ran.code, 0, good.ran.output);
    assert.match(good.ran.output, /RELEASED/);
    noFailure('payment-service blue-green (after a rolled-back bad build)', good);
    await statusIsWhatListens('payment-service');
  });

  it('releases user-service rolling', async () => {
    await clone.commit('apps/user-service/src/app.ts', harmless, 'user-service: a comment');
    const watched = await underLoad(clone, run.rolling);
    assert.equal(watched.ran.code, 0, watched.ran.output);
    noFailure('user-service rolling', watched);
    await statusIsWhatListens('user-service');
  });

  it('releases the gateway rolling on its own port', async () => {
    await clone.commit('apps/gateway/src/app.ts', harmless, 'gateway: a comment');
    const watched = await underLoad(clone, run.gateway);
    assert.equal(watched.ran.code, 0, watched.ran.output);
    noFailure('gateway rolling', watched);
    const [gateway] = await statusIsWhatListens('gateway');
    assert.ok(gateway?.alive && gateway.ready);
  });

  it('releases a good build while the limiter refuses the load around it', async () => {
    await clone.commit('apps/order-service/src/app.ts', harmless, 'order-service: another comment');
    // 15 a second from one client, over the default 600 a minute: the limiter refuses some.
    const flood = startLoad(15);
    const ran = await clone.run(run.canary);
    const during = await flood.stop();
    assert.equal(ran.code, 0, ran.output);
    assert.match(ran.output, /RELEASED/);
    const notRefusals = Object.entries(during.failures)
      .filter(([reason]) => !/\b429\b/.test(reason))
      .map(([reason, count]) => `${reason} x ${count}`);
    assert.ok(during.requests.failed > 0, 'the limiter refused part of the load');
    assert.deepEqual(notRefusals, [], 'the only failures are the limiter’s 429s');
    // Once the client's bucket has refilled (most of its burst), the released version serves everyone.
    await waitFor(
      'the limiter to let this client through again',
      async () => {
        const res = await fetch(`${GATEWAY}/api/orders`);
        const remaining = Number(res.headers.get('ratelimit-remaining-client') ?? 0);
        if (res.status === 429 || remaining < 30) throw new Error(`${remaining} requests left`);
      },
      { timeoutMs: 120_000, intervalMs: 1000 },
    );
    const after = await loadFor(30_000, 5);
    figures.push(`order-service canary at 15/s: during ${tally(during)}; after ${tally(after)}`);
    assert.equal(after.requests.failed, 0, tally(after));
  });

  it('rolls back to the previous successful release', async () => {
    const before = await statusIsWhatListens('order-service');
    const watched = await underLoad(clone, run.rollback);
    assert.equal(watched.ran.code, 0, watched.ran.output);
    noFailure('order-service rollback', watched);
    const [now] = await statusIsWhatListens('order-service');
    assert.notEqual(now?.label, before[0]?.label);
    assert.equal(now?.weight, 100);
  });

  it('rolls a release back when Ctrl-C stops the deploy through Nx, and the service keeps serving', async () => {
    await clone.commit('apps/order-service/src/app.ts', harmless, 'order-service: a third comment');
    const stopped = await deployStopped('SIGINT');
    assert.notEqual(stopped.ran.code, 0, stopped.ran.output);
    noFailure('order-service deploy, Ctrl-C', stopped);
    // npm and Nx end on Ctrl-C and drop what the task prints after it; the ledger tells.
    const status = await clone.run(run.status);
    assert.match(status.output, /last releases\n\s+r\d+\s+\S+\s+canary\s+rolled-back/);
    const versions = await statusIsWhatListens('order-service');
    assert.equal(versions.length, 1, 'the stopped release’s version is gone');
  });

  it('keeps serving when the deploy is killed outright, and rollback undoes what it left', async () => {
    const killed = await deployStopped('SIGKILL');
    noFailure('order-service deploy, SIGKILL', killed);
    const left = await statusIsWhatListens('order-service');
    assert.equal(left.length, 2, 'the killed release left both versions, both serving');
    const undone = await underLoad(clone, run.rollback);
    assert.equal(undone.ran.code, 0, undone.ran.output);
    assert.match(undone.ran.output, /undid the unfinished release/);
    noFailure('order-service rollback after a killed deploy', undone);
    assert.equal((await statusIsWhatListens('order-service')).length, 1);
  });

  it('refuses a canary on a dead stable version (exit 3) and a rolling release restores it', async () => {
    const stable = clone
      .store()
      .readService('order-service')
      ?.instances.find((i) => !i.exit);
    assert.ok(stable);
    process.kill(stable.pid, 'SIGKILL');
    const status = await clone.run(run.status);
    const [dead] = parseStatus(status.output);
    assert.equal(dead?.alive, false, status.output);
    assert.match(status.output, /not running \(exited SIGKILL\)/);

    // Nx ends a failed task with 1; the kit's own code is its last line.
    const refused = await clone.run(run.canary);
    assert.equal(refused.code, 1, refused.output);
    assert.match(refused.output, /^exit 3$/m);
    assert.match(refused.output, new RegExp(`${stable.label} takes 100% of the traffic`));
    assert.match(refused.output, /--strategy=rolling/);

    const restored = await underLoad(clone, `${run.canary} --strategy=rolling`, {
      afterMs: 30_000,
    });
    assert.equal(restored.ran.code, 0, restored.ran.output);
    assert.equal(restored.after.requests.failed, 0, tally(restored.after));
    figures.push(`order-service rolling over a dead stable: after ${tally(restored.after)}`);
    const [now] = await statusIsWhatListens('order-service');
    assert.ok(now?.alive && now.ready);
  });

  it('releases the services a change to one lib touches with nx affected, callees first', async () => {
    clone.git('checkout', '--quiet', '-b', 'cache-change');
    await clone.commit('libs/cache/src/index.ts', harmless, 'cache: a comment');
    const watched = await underLoad(clone, run.affected);
    assert.equal(watched.ran.code, 0, watched.ran.output);
    assert.match(watched.ran.output, /releasing in this order[^\n]*user-service, gateway/);
    assert.doesNotMatch(watched.ran.output, /order-service \S+ to local/);
    noFailure('nx affected (libs/cache: user-service, gateway)', watched);
    await statusIsWhatListens('user-service');
    await statusIsWhatListens('gateway');
  });

  it('stops every version it owns on Ctrl-C, and says on the next start what it does not start', async () => {
    const pids = clone
      .store()
      .services()
      .flatMap((s) => s.instances.filter((i) => !i.exit).map((i) => i.pid));
    await system.stop();
    const alive = pids.filter((pid) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    });
    assert.deepEqual(alive, [], 'no service process outlives npm start');

    system = await startSystem(clone, run.start);
    assert.match(
      system.typed.output(),
      /order-service runs the workspace \(v1\); its last release in local, \S+-r\d+, is not started again/,
    );
  });
});
