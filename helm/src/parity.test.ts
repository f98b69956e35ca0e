import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { ConfigSchema } from '@flotilla/config';
import { configSchema as gatewaySchema } from '@flotilla/gateway/config';
import { configSchema as orderSchema } from '@flotilla/order-service/config';
import { configSchema as paymentSchema } from '@flotilla/payment-service/config';
import { configSchema as userSchema } from '@flotilla/user-service/config';
import { SERVICES } from '@flotilla/scripts/services';
import { parse } from 'yaml';
import type { z } from 'zod';
import { HELM_DIR, ROOT, SERVICE_CHARTS, render } from './helm.ts';

const SCHEMAS: Record<string, ConfigSchema> = {
  'user-service': userSchema,
  'payment-service': paymentSchema,
  'order-service': orderSchema,
  gateway: gatewaySchema,
};
const TELEMETRY_KEYS = new Set([
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_SDK_DISABLED',
  'OTEL_TRACES_SAMPLER',
  'OTEL_TRACES_SAMPLER_ARG',
]);
const compose = parse(readFileSync(`${ROOT}docker-compose.yml`, 'utf8'), { merge: true }) as {
  services: Record<
    string,
    { environment: Record<string, string>; healthcheck: { test: string[] } }
  >;
};

describe('charts, compose and the services agree', () => {
  for (const chart of SERVICE_CHARTS) {
    describe(chart, () => {
      const values = parse(readFileSync(`${HELM_DIR}${chart}/values.yaml`, 'utf8')) as {
        port: number;
        adminPort: number;
        secrets: { keys: string[] };
      };
      const objects = render(chart, { environment: 'dev' });
      const config = objects.find((o) => o.kind === 'ConfigMap')!.data as Record<string, string>;
      const schema = SCHEMAS[chart]!;
      const provided = new Set([...Object.keys(config), ...values.secrets.keys]);

      it('sets only variables the config schema (or tracing) reads', () => {
        const known = new Set(Object.keys(schema.shape));
        assert.deepEqual(
          [...provided].filter((k) => !known.has(k) && !TELEMETRY_KEYS.has(k)),
          [],
        );
      });

      it('provides every key the config schema requires, from the ConfigMap or the Secret', () => {
        const required = Object.entries(schema.shape)
          .filter(([, field]) => !(field as z.ZodType).safeParse(undefined).success)
          .map(([key]) => key);
        assert.deepEqual(
          required.filter((key) => !provided.has(key)),
          [],
        );
      });

      it('uses the ports of npm start and compose', () => {
        const local = SERVICES.find((s) => s.name === chart)!;
        assert.equal(values.port, local.port);
        assert.equal(values.adminPort, local.adminPort);
        assert.equal(Number(compose.services[chart]?.environment['PORT']), values.port);
        assert.equal(Number(config['PORT']), values.port);
        const service = objects.find((o) => o.kind === 'Service' && o.metadata.name === chart)!;
        assert.equal(service.spec.ports[0].port, values.port);
      });

      it('probes the paths compose probes, which the service serves', () => {
        const workload = objects.find((o) => o.kind === 'Deployment')!;
        const [container] = workload.spec.template.spec.containers;
        assert.equal(container.readinessProbe.httpGet.path, '/ready');
        assert.match(compose.services[chart]?.healthcheck.test.join(' ') ?? '', /\/ready/);
        assert.equal(container.ports[0].containerPort, values.port);
      });

      it('calls the other services on their chart ports', () => {
        for (const [key, value] of Object.entries(config)) {
          if (!/^https?:\/\//.test(value)) continue;
          const url = new URL(value);
          const target = SERVICES.find((s) => s.name === url.hostname);
          assert.ok(target, `${key} points at ${url.hostname}, which no chart serves`);
          assert.equal(Number(url.port), target.port, key);
        }
      });
    });
  }

  it('ships the same Prometheus rules in the umbrella chart as deploy/prometheus', () => {
    assert.equal(
      readFileSync(`${HELM_DIR}flotilla/files/flotilla.rules.yml`, 'utf8'),
      readFileSync(`${ROOT}deploy/prometheus/rules/flotilla.rules.yml`, 'utf8'),
    );
  });

  it('gives every service chart the same values schema', () => {
    const [first, ...rest] = SERVICE_CHARTS.map((c) =>
      readFileSync(`${HELM_DIR}${c}/values.schema.json`, 'utf8'),
    );
    for (const schema of rest) assert.equal(schema, first);
  });
});
