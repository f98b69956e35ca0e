import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  ENVIRONMENTS,
  HELM_DIR,
  SERVICE_CHARTS,
  STRATEGIES,
  environmentValues,
  helm,
  render,
} from './helm.ts';
import { validateObject } from './schemas.ts';

describe('helm lint --strict', () => {
  it('passes the library chart', () => {
    const result = helm('lint', '--strict', `${HELM_DIR}flotilla-lib`);
    assert.equal(result.code, 0, result.stdout + result.stderr);
  });

  for (const environment of ENVIRONMENTS) {
    it(`passes the umbrella chart with ${environment} values`, () => {
      const result = helm(
        'lint',
        '--strict',
        `${HELM_DIR}flotilla`,
        '-f',
        environmentValues(environment),
      );
      assert.equal(result.code, 0, result.stdout + result.stderr);
    });
  }

  // chart-testing's convention: each chart with its own defaults, then with each ci/*-values.yaml
  for (const chart of [...SERVICE_CHARTS, 'flotilla']) {
    const ciValues = readdirSync(`${HELM_DIR}${chart}/ci`).filter((f) =>
      f.endsWith('-values.yaml'),
    );
    it(`passes ${chart} with its defaults`, () => {
      const result = helm('lint', '--strict', `${HELM_DIR}${chart}`);
      assert.equal(result.code, 0, result.stdout + result.stderr);
    });
    for (const file of ciValues) {
      it(`passes ${chart} with ci/${file}`, () => {
        const result = helm(
          'lint',
          '--strict',
          `${HELM_DIR}${chart}`,
          '-f',
          `${HELM_DIR}${chart}/ci/${file}`,
        );
        assert.equal(result.code, 0, result.stdout + result.stderr);
      });
    }
    if (chart !== 'flotilla')
      it(`${chart} has ci values for every strategy but rolling, its default`, () => {
        assert.deepEqual(ciValues, [
          'flagger-values.yaml',
          'production-canary-values.yaml',
          'staging-blue-green-values.yaml',
        ]);
      });
  }

  it('fails a chart that breaks its own schema', () => {
    const result = helm(
      'lint',
      '--strict',
      `${HELM_DIR}user-service`,
      '--set',
      'strategy.type=yolo',
    );
    assert.notEqual(result.code, 0);
  });
});

describe('every chart x environment x strategy renders objects valid against their schemas', () => {
  for (const chart of ['flotilla', ...SERVICE_CHARTS]) {
    for (const environment of ENVIRONMENTS) {
      for (const strategy of STRATEGIES) {
        it(`${chart} ${environment} ${strategy}`, async () => {
          const objects = render(chart, { environment, strategy });
          assert.ok(objects.length > 0);
          const errors = (await Promise.all(objects.map(validateObject))).flat();
          assert.deepEqual(errors, []);
        });
      }
    }
  }

  it('the schema check does catch an invalid object', async () => {
    const errors = await validateObject({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'broken' },
      spec: { selector: {}, template: { spec: { containers: [{ name: 'x', image: 5 }] } } },
    });
    assert.equal(errors.length, 1);
    const unknown = await validateObject({
      apiVersion: 'example.com/v1',
      kind: 'Gadget',
      metadata: { name: 'x' },
    });
    assert.match(unknown[0] ?? '', /no schema/);
    const canary = await validateObject({
      apiVersion: 'flagger.app/v1beta1',
      kind: 'Canary',
      metadata: { name: 'broken' },
      spec: { targetRef: { kind: 'Deployment', name: 'x' }, analysis: { stepWeight: 'ten' } },
    });
    assert.ok(
      canary.some((e) => /stepWeight|service/.test(e)),
      canary.join('\n'),
    );
  });
});

describe('values.schema.json rejects wrong values at helm time', () => {
  const refused = (chart: string, ...set: string[]) => {
    const args = ['template', 'x', `${HELM_DIR}${chart}`, '--set', 'global.imageTag=3f2a9c1d7b4e'];
    for (const entry of set) args.push('--set', entry);
    const result = helm(...args);
    assert.notEqual(result.code, 0, `accepted ${set.join(' ')}`);
    return result.stderr;
  };

  it('an unknown strategy, a port that is not a number, an unknown key', () => {
    assert.match(refused('user-service', 'strategy.type=yolo'), /strategy/);
    assert.match(refused('order-service', 'port=abc'), /port/);
    assert.match(refused('gateway', 'replicas=3'), /replicas/);
  });

  it('a secret written into values instead of a Secret', () => {
    assert.match(
      refused('user-service', 'env.DATABASE_URL=postgres://u:p@db/users'),
      /DATABASE_URL|env/,
    );
  });

  it('an unknown environment or a missing registry in the umbrella chart', () => {
    for (const set of ['global.environment=qa', 'global.imageRegistry=', 'gateway.enabled=maybe']) {
      const result = helm(
        'template',
        'x',
        `${HELM_DIR}flotilla`,
        '--set',
        'global.imageTag=3f2a9c1d7b4e',
        '--set',
        set,
      );
      assert.notEqual(result.code, 0, set);
      assert.match(result.stderr, /schema/);
    }
  });

  it('an ingress without a host or TLS secret, an analysis threshold above 1', () => {
    assert.match(refused('gateway', 'ingress.host='), /host/);
    assert.match(refused('payment-service', 'analysis.minSuccessRate=1.5'), /minSuccessRate/);
  });
});
