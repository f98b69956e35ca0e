import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { STRATEGIES, parseEnvironment, type Environment } from './environment.ts';
import { formatPlan } from './format.ts';
import type { ReleaseRecord } from './ledger.ts';
import {
  EXIT,
  planRelease,
  type Current,
  type Plan,
  type PlanRequest,
  type ReleasePlan,
  type VersionHealth,
} from './plan.ts';

const DIR = fileURLToPath(new URL('../../../../deploy/environments/', import.meta.url));
const env = (name: string): Environment =>
  parseEnvironment(name, `${name}.yaml`, parse(readFileSync(`${DIR}${name}.yaml`, 'utf8')));
const ENVIRONMENTS = ['local', 'dev', 'staging', 'production'] as const;

const VERSION = '3f2a9c1d7b4e';
const released = (environment: string, version = VERSION, revision = 1): ReleaseRecord => ({
  service: 'order-service',
  environment,
  revision,
  version,
  label: `${version}-r${revision}`,
  strategy: 'rolling',
  platform: 'kubernetes',
  previous: undefined,
  startedAt: '2026-11-01T10:00:00.000Z',
  finishedAt: '2026-11-01T10:02:00.000Z',
  result: 'released',
  steps: [],
  by: 'ci@runner',
});

/** A request that every gate lets through, for `environment`; overrides make it fail one. */
function request(environment: Environment, overrides: Partial<PlanRequest> = {}): PlanRequest {
  const upstream = environment.promoteFrom ? [released(environment.promoteFrom)] : [];
  return {
    service: 'order-service',
    environment,
    artefact: { version: VERSION, dirty: false },
    current: {
      stable: { version: '0a1b2c3d4e5f', label: '0a1b2c3d4e5f-r4' },
      versions: [{ label: '0a1b2c3d4e5f-r4', version: '0a1b2c3d4e5f', weight: 100 }],
    },
    history: [4, 3, 2, 1]
      .map((r) => ({ ...released(environment.name, '0a1b2c3d4e5f', r) }))
      .reverse(),
    upstreamHistory: upstream,
    lock: undefined,
    approval: { approved: true, by: 'release-manager' },
    supports: () => true,
    migrations: true,
    sharedPort: false,
    ...overrides,
  };
}

function release(plan: Plan): ReleasePlan {
  assert.equal(
    plan.kind,
    'release',
    plan.kind === 'refused' ? plan.refusals.map((r) => r.message).join('; ') : '',
  );
  return plan;
}

const kinds = (plan: ReleasePlan) =>
  plan.steps.map((s) =>
    s.kind === 'shift' || s.kind === 'analyse' ? `${s.kind} ${s.weight}` : s.kind,
  );

describe('planRelease: every strategy in every environment', () => {
  for (const name of ENVIRONMENTS) {
    for (const strategy of STRATEGIES) {
      it(`${strategy} to ${name}`, () => {
        const environment = env(name);
        const plan = release(planRelease(request(environment, { strategy })));
        assert.equal(plan.strategy, strategy);
        assert.equal(plan.revision, 5);
        assert.equal(plan.label, `${VERSION}-r5`);
        const steps = kinds(plan);
        assert.deepEqual(
          steps.slice(0, 5),
          ['build', 'migrate', 'start', 'ready', 'smoke'],
          'the new version is proven before it takes traffic',
        );
        assert.equal(steps.at(-1), 'retire', 'the old version goes last');
        if (strategy === 'rolling') assert.deepEqual(steps.slice(5), ['shift 100', 'retire']);
        if (strategy === 'blueGreen')
          assert.deepEqual(steps.slice(5), ['shift 100', 'hold', 'retire']);
        if (strategy === 'canary') {
          const weights = environment.strategy.canary.steps.map((s) => s.weight);
          assert.deepEqual(steps.slice(5), [
            ...weights.flatMap((w) => [`shift ${w}`, `analyse ${w}`]),
            'shift 100',
            'retire',
          ]);
        }
      });
    }
  }

  it("uses each environment's own strategy when none is asked for", () => {
    assert.deepEqual(
      ENVIRONMENTS.map((name) => release(planRelease(request(env(name)))).strategy),
      ['canary', 'rolling', 'blueGreen', 'canary'],
    );
  });

  it('measures at most the window at the end of each pause', () => {
    const plan = release(planRelease(request(env('production'))));
    const analyses = plan.steps.filter((s) => s.kind === 'analyse');
    assert.deepEqual(
      analyses.map((s) => [s.pauseMs, s.windowMs]),
      [
        [120_000, 60_000],
        [120_000, 60_000],
        [120_000, 60_000],
      ],
    );
  });

  it('leaves out migrations for a service without a database', () => {
    const plan = release(
      planRelease(request(env('dev'), { service: 'gateway', migrations: false })),
    );
    assert.ok(!kinds(plan).includes('migrate'));
  });

  it('releases a shared-port service by taking over its port, smoke-testing it once the old one is gone', () => {
    const plan = release(
      planRelease(
        request(env('local'), {
          service: 'gateway',
          migrations: false,
          sharedPort: true,
          strategy: 'rolling',
        }),
      ),
    );
    assert.deepEqual(kinds(plan), ['build', 'start', 'ready', 'retire', 'smoke']);
  });
});

describe('planRelease: gates', () => {
  const refused = (plan: Plan) => {
    assert.equal(plan.kind, 'refused');
    return plan.kind === 'refused' ? plan.refusals : [];
  };

  it('refuses a version that was not released in the environment it is promoted from', () => {
    const [refusal, ...more] = refused(
      planRelease(request(env('staging'), { upstreamHistory: [released('dev', '999999999999')] })),
    );
    assert.equal(more.length, 0);
    assert.equal(refusal?.gate, 'promotion');
    assert.equal(refusal?.code, EXIT.refused);
    assert.match(refusal?.message ?? '', /has not been released in dev/);
  });

  it('does not count a release in the earlier environment that was rolled back', () => {
    const rolledBack = { ...released('staging'), result: 'rolled-back' as const };
    assert.equal(
      refused(planRelease(request(env('production'), { upstreamHistory: [rolledBack] })))[0]?.gate,
      'promotion',
    );
  });

  it('refuses production without an approval, and passes with one', () => {
    const [refusal] = refused(
      planRelease(request(env('production'), { approval: { approved: false } })),
    );
    assert.equal(refusal?.gate, 'approval');
    assert.match(refusal?.message ?? '', /--approve|FLOTILLA_APPROVED_BY/);
    const plan = release(planRelease(request(env('production'))));
    assert.ok(plan.gates.includes('approved by release-manager'));
  });

  it('refuses a dirty tree outside local, and takes it in local', () => {
    const dirty = { version: `${VERSION}-dirty`, dirty: true };
    for (const name of ['dev', 'staging', 'production'] as const) {
      assert.ok(
        refused(planRelease(request(env(name), { artefact: dirty }))).some(
          (r) => r.gate === 'dirty',
        ),
        name,
      );
    }
    assert.equal(planRelease(request(env('local'), { artefact: dirty })).kind, 'release');
  });

  it('refuses while another release holds the lock, and takes over a stale one to undo what it left', () => {
    const lock = { holder: 'ci@runner, pid 42', since: '2026-11-01T10:00:00.000Z', stale: false };
    assert.equal(refused(planRelease(request(env('dev'), { lock })))[0]?.gate, 'lock');
    const left: ReleaseRecord = { ...released('dev', '777777777777', 5), result: 'in-progress' };
    const history = [...request(env('dev')).history, left];
    const plan = release(
      planRelease(request(env('dev'), { lock: { ...lock, stale: true }, history })),
    );
    assert.equal(plan.recover?.revision, 5);
    assert.equal(plan.revision, 6);
  });

  it('answers bad usage (2) before any refusal (3) when the platform cannot run the strategy', () => {
    const plan = planRelease(
      request(env('production'), {
        approval: { approved: false },
        supports: (s) => (s === 'rolling' ? true : `no ${s} here`),
      }),
    );
    const refusals = refused(plan);
    assert.deepEqual(
      refusals.map((r) => [r.gate, r.code]),
      [
        ['strategy', EXIT.usage],
        ['approval', EXIT.refused],
      ],
    );
  });

  it('has nothing to do when the version already takes all the traffic, unless forced', () => {
    const current = {
      stable: { version: VERSION, label: `${VERSION}-r4` },
      versions: [{ label: `${VERSION}-r4`, version: VERSION, weight: 100 }],
    };
    const plan = planRelease(request(env('dev'), { current }));
    assert.equal(plan.kind, 'nothing');
    assert.equal(planRelease(request(env('dev'), { current, force: true })).kind, 'release');
  });

  it('plans a rollback as a rolling release without the promotion and approval gates', () => {
    const plan = release(
      planRelease(
        request(env('production'), {
          purpose: 'rollback',
          approval: { approved: false },
          upstreamHistory: [],
          strategy: 'canary',
        }),
      ),
    );
    assert.equal(plan.purpose, 'rollback');
    assert.equal(plan.strategy, 'rolling');
    assert.deepEqual(plan.gates, ['no other release of order-service in production (lock)']);
  });
});

describe('planRelease: the stable version as a baseline', () => {
  const STABLE = '0a1b2c3d4e5f-r4';
  const LOG = '/home/dev/.flotilla/local/logs/order-service-0a1b2c3d4e5f-r4.log';
  const HEALTH = {
    healthy: { alive: true, ready: true, log: LOG },
    dead: { alive: false, ready: false, detail: 'not running (exited 1)', log: LOG },
    unready: { alive: true, ready: false, detail: 'not ready: 503 draining', log: LOG },
  } satisfies Record<string, VersionHealth>;
  type Health = keyof typeof HEALTH;
  const an = (health: Health) => (health === 'unready' ? `an ${health}` : `a ${health}`);

  /** What runs now: the stable with `health`, and a dead leftover that takes no traffic. */
  const current = (health: VersionHealth): Current => ({
    stable: { version: '0a1b2c3d4e5f', label: STABLE },
    versions: [
      { label: STABLE, version: '0a1b2c3d4e5f', weight: 100, health },
      { label: '999999999999-r3', version: '999999999999', weight: 0, health: HEALTH.dead },
    ],
  });
  const plan = (
    health: Health,
    how: { strategy: 'rolling' | 'blueGreen' | 'canary' } | 'rollback',
  ) =>
    planRelease(
      request(env('local'), {
        current: current(HEALTH[health]),
        ...(how === 'rollback' ? { purpose: 'rollback', strategy: 'canary' } : how),
      }),
    );

  const refusedCases: ['dead' | 'unready', 'blueGreen' | 'canary'][] = [
    ['dead', 'canary'],
    ['unready', 'canary'],
    ['dead', 'blueGreen'],
    ['unready', 'blueGreen'],
  ];
  for (const [health, strategy] of refusedCases) {
    it(`refuses a ${strategy} release with ${an(health)} stable (exit 3), naming it, its log and the way to restore it`, () => {
      const result = plan(health, { strategy });

      assert.equal(result.kind, 'refused');
      const refusals = result.kind === 'refused' ? result.refusals : [];
      assert.deepEqual(
        refusals.map((r) => [r.gate, r.code]),
        [['baseline', EXIT.refused]],
      );
      const message = refusals[0]?.message ?? '';
      assert.ok(
        message.includes(`order-service ${STABLE} takes 100% of the traffic in local`),
        message,
      );
      assert.ok(message.includes(HEALTH[health].detail), message);
      assert.ok(message.includes(`(its output: ${LOG})`), message);
      assert.ok(message.includes(`no baseline for a ${strategy} release`), message);
      assert.ok(
        message.includes('npx nx run order-service:deploy --env=local --strategy=rolling'),
        message,
      );
      assert.ok(message.includes('npx nx run order-service:rollback --env=local'), message);
    });
  }

  it('says not running or not ready when the platform gives no detail, and leaves out a log it does not know', () => {
    const messages = [
      { alive: false, ready: false },
      { alive: true, ready: false },
    ].map((health) => {
      const result = planRelease(
        request(env('local'), { current: current(health), strategy: 'canary' }),
      );
      return result.kind === 'refused' ? (result.refusals[0]?.message ?? '') : result.kind;
    });

    assert.match(messages[0] ?? '', /but is not running, so it is no baseline/);
    assert.match(messages[1] ?? '', /but is not ready, so it is no baseline/);
    assert.ok(
      messages.every((m) => !m.includes('its output')),
      messages.join('\n'),
    );
  });

  const goesAheadCases: [Health, { strategy: 'rolling' | 'blueGreen' | 'canary' } | 'rollback'][] =
    [
      ['dead', { strategy: 'rolling' }],
      ['unready', { strategy: 'rolling' }],
      ['dead', 'rollback'],
      ['unready', 'rollback'],
      ['healthy', { strategy: 'canary' }],
      ['healthy', { strategy: 'blueGreen' }],
      ['healthy', { strategy: 'rolling' }],
    ];
  for (const [health, how] of goesAheadCases) {
    const what = how === 'rollback' ? 'a rollback' : `a ${how.strategy} release`;
    it(`lets ${what} go ahead with ${an(health)} stable`, () => {
      const result = release(plan(health, how));

      assert.equal(result.strategy, how === 'rollback' ? 'rolling' : how.strategy);
      assert.equal(result.stable?.label, STABLE);
      assert.equal(kinds(result).at(-1), 'retire', 'the old versions are retired last');
    });
  }
});

describe('the printed plan (--dry-run)', () => {
  it('says what starts, each traffic step with its analysis, the gates and the way back', (t) => {
    t.assert.snapshot(formatPlan(planRelease(request(env('production')))));
  });

  it('says why a release is refused', (t) => {
    t.assert.snapshot(
      formatPlan(
        planRelease(
          request(env('production'), { approval: { approved: false }, upstreamHistory: [] }),
        ),
      ),
    );
  });
});
