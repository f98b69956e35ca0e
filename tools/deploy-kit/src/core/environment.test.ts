import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { SLO } from '@flotilla/promql';
import { parse } from 'yaml';
import { EnvironmentError, parseEnvironment, settingsFor } from './environment.ts';

const DIR = fileURLToPath(new URL('../../../../deploy/environments/', import.meta.url));
const read = (name: string) =>
  parse(readFileSync(`${DIR}${name}.yaml`, 'utf8')) as Record<string, unknown>;
const local = () => read('local');

function problemsOf(data: unknown): string[] {
  try {
    parseEnvironment('test', 'deploy/environments/test.yaml', data);
  } catch (err) {
    assert.ok(err instanceof EnvironmentError);
    assert.match(err.message, /deploy\/environments\/test\.yaml/);
    return [...err.problems];
  }
  assert.fail('the environment was accepted');
}

describe('environment files', () => {
  it('every file in deploy/environments passes the schema', () => {
    const names = readdirSync(DIR)
      .filter((f) => f.endsWith('.yaml') && !f.startsWith('values-'))
      .map((f) => f.slice(0, -5));
    assert.deepEqual(names.sort(), ['dev', 'local', 'production', 'staging']);
    for (const name of names) parseEnvironment(name, `${name}.yaml`, read(name));
  });

  it('chains the promotions dev -> staging -> production, and production needs an approval', () => {
    const env = (name: string) => parseEnvironment(name, name, read(name));
    assert.equal(env('dev').promoteFrom, null);
    assert.equal(env('staging').promoteFrom, 'dev');
    assert.equal(env('production').promoteFrom, 'staging');
    assert.equal(env('production').approval, 'required');
    assert.equal(env('local').platform, 'local');
  });

  it('takes the thresholds from the SLO of libs/promql unless a file overrides them', () => {
    const env = parseEnvironment('local', 'local.yaml', local());
    assert.equal(env.analysis.minSuccessRate, SLO.minSuccessRate);
    assert.equal(env.analysis.maxP99Seconds, SLO.maxP99Seconds);
    const strict = parseEnvironment('x', 'x.yaml', {
      ...local(),
      analysis: { ...(local()['analysis'] as object), minSuccessRate: 0.999 },
    });
    assert.equal(strict.analysis.minSuccessRate, 0.999);
  });

  it('resolves a per-service strategy and keeps the canary steps for --strategy', () => {
    const env = parseEnvironment('local', 'local.yaml', local());
    assert.equal(settingsFor(env, 'gateway').strategy.type, 'rolling');
    assert.equal(settingsFor(env, 'order-service').strategy.type, 'canary');
    assert.deepEqual(
      settingsFor(env, 'order-service').strategy.canary.steps.map((s) => [s.weight, s.pause]),
      [
        [10, 10_000],
        [25, 10_000],
        [50, 10_000],
      ],
    );
  });

  it('names every bad key at once, with the file', () => {
    const problems = problemsOf({
      ...local(),
      platform: 'mainframe',
      strategy: {
        type: 'canary',
        canary: {
          steps: [
            { weight: 50, pause: '10s' },
            { weight: 20, pause: '10s' },
          ],
        },
        blueGreen: { preview: 'soon' },
      },
      approval: 'maybe',
      extra: true,
    });
    const text = problems.join('\n');
    assert.match(text, /^platform: /m);
    assert.match(text, /strategy\.blueGreen\.preview: "soon" is not a duration/);
    assert.match(text, /strategy\.canary\.steps: weights must rise/);
    assert.match(text, /^approval: /m);
    assert.match(text, /extra/);
  });

  it('refuses a prometheus source without its URL, and kubernetes without its block', () => {
    assert.match(
      problemsOf({
        ...local(),
        analysis: { ...(local()['analysis'] as object), source: 'prometheus' },
      }).join('\n'),
      /analysis\.prometheusUrl: a prometheus source needs prometheusUrl/,
    );
    assert.match(
      problemsOf({ ...local(), platform: 'kubernetes' }).join('\n'),
      /kubernetes: a kubernetes platform needs the kubernetes block/,
    );
  });

  it("ships local with the kit's own analysis load, the purchase flow mostly", () => {
    const env = parseEnvironment('local', 'local.yaml', local());
    assert.deepEqual(env.analysis.load, { mix: { visa: 90, browse: 10 }, users: 2 });
  });

  it('fills in the analysis load a file leaves out: visa 90, browse 10, two users, the rate computed', () => {
    const withLoad = (load: unknown) =>
      parseEnvironment('x', 'x.yaml', {
        ...local(),
        analysis: { ...(local()['analysis'] as object), load },
      }).analysis.load;

    assert.deepEqual(withLoad({}), { mix: { visa: 90, browse: 10 }, users: 2 });
    assert.deepEqual(withLoad({ mix: { declined: 1 }, rate: 5, users: 4 }), {
      mix: { declined: 1 },
      rate: 5,
      users: 4,
    });
  });

  it('has no analysis load where a file names none', () => {
    const analysis = { ...(local()['analysis'] as Record<string, unknown>) };
    delete analysis['load'];
    const env = parseEnvironment('x', 'x.yaml', { ...local(), analysis });
    assert.equal(env.analysis.load, undefined);
  });

  it('refuses an analysis load whose mix has no scenario above 0, or a scenario it does not know', () => {
    const problems = (load: unknown) =>
      problemsOf({ ...local(), analysis: { ...(local()['analysis'] as object), load } }).join('\n');

    assert.match(
      problems({ mix: { visa: 0, browse: 0 } }),
      /^analysis\.load\.mix: at least one scenario needs a weight above 0/m,
    );
    assert.match(
      problems({ mix: {} }),
      /^analysis\.load\.mix: at least one scenario needs a weight above 0/m,
    );
    assert.match(problems({ mix: { checkout: 10 } }), /^analysis\.load\.mix/m);
  });
});
