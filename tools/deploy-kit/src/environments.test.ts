// Strategy is said once: each Kubernetes environment file and the Helm values of that environment
// must agree on how every service is released and judged.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { parseDuration } from '@flotilla/loadgen';
import { parse } from 'yaml';
import { parseEnvironment, settingsFor } from './core/environment.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const yaml = (path: string) =>
  parse(readFileSync(`${ROOT}${path}`, 'utf8')) as Record<string, unknown>;
const SERVICES = ['user-service', 'payment-service', 'order-service', 'gateway'];

interface ChartValues {
  strategy: {
    type: string;
    blueGreen: { scaleDownDelaySeconds: number };
    canary: { steps: ({ setWeight: number } | { pause: { duration: string } })[] };
  };
  analysis: { minSuccessRate: number; maxP99Seconds: number; window: string };
}

/** A chart's values for an environment: its defaults with the environment's values over them. */
function chartValues(service: string, valuesFile: string): ChartValues {
  const defaults = yaml(`helm/${service}/values.yaml`) as unknown as ChartValues;
  const env = (yaml(`deploy/environments/${valuesFile}`)[service] ?? {}) as Partial<ChartValues>;
  return {
    strategy: { ...defaults.strategy, ...env.strategy },
    analysis: { ...defaults.analysis, ...env.analysis },
  };
}

describe('environment files and Helm values agree', () => {
  for (const name of ['dev', 'staging', 'production']) {
    const environment = parseEnvironment(
      name,
      `${name}.yaml`,
      yaml(`deploy/environments/${name}.yaml`),
    );
    for (const service of SERVICES) {
      it(`${service} in ${name}`, () => {
        const values = chartValues(service, environment.kubernetes?.valuesFile ?? '');
        const { strategy, analysis } = settingsFor(environment, service);
        assert.equal(values.strategy.type, strategy.type, 'strategy.type');
        assert.equal(values.analysis.minSuccessRate, analysis.minSuccessRate, 'minSuccessRate');
        assert.equal(values.analysis.maxP99Seconds, analysis.maxP99Seconds, 'maxP99Seconds');
        assert.equal(parseDuration(values.analysis.window), analysis.window, 'analysis window');
        if (strategy.type === 'canary') {
          const weights = values.strategy.canary.steps.flatMap((s) =>
            'setWeight' in s ? [s.setWeight] : [],
          );
          const pauses = values.strategy.canary.steps.flatMap((s) =>
            'pause' in s ? [parseDuration(s.pause.duration)] : [],
          );
          assert.deepEqual(
            weights,
            strategy.canary.steps.map((s) => s.weight),
            'canary weights',
          );
          assert.deepEqual(
            pauses,
            strategy.canary.steps.map((s) => s.pause),
            'canary pauses',
          );
        }
        if (strategy.type === 'blueGreen') {
          assert.equal(
            values.strategy.blueGreen.scaleDownDelaySeconds * 1000,
            strategy.blueGreen.preview,
            'preview',
          );
        }
      });
    }
  }
});
