import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig, type ConfigSchema } from '@flotilla/config';
import { configSchema as gatewaySchema } from '@flotilla/gateway/config';
import { configSchema as orderSchema } from '@flotilla/order-service/config';
import { configSchema as paymentSchema } from '@flotilla/payment-service/config';
import { configSchema as userSchema } from '@flotilla/user-service/config';
import { SERVICES } from '@flotilla/scripts/services';
import { interpolate, loadCompose, type ComposeService } from './compose.ts';

const ROOT = new URL('../../', import.meta.url);
const SCHEMAS: Record<string, ConfigSchema> = {
  'user-service': userSchema,
  'payment-service': paymentSchema,
  'order-service': orderSchema,
  gateway: gatewaySchema,
};
/** Read by the tracing setup rather than the config schema (telemetry settings). */
const TELEMETRY_KEYS = new Set([
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_SDK_DISABLED',
  'OTEL_TRACES_SAMPLER',
  'OTEL_TRACES_SAMPLER_ARG',
]);
/** Set for the runtime (Node itself), not for the service's config. */
const RUNTIME_KEYS = new Set(['NODE_ENV']);

const files = ['docker-compose.yml', 'docker/compose.observability.yml'].map((file) =>
  loadCompose(new URL(file, ROOT).pathname),
);

/** A service's environment as `docker compose up` gives it without a .env: overlays merged. */
function environmentOf(app: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const file of files) {
    for (const [key, value] of Object.entries(file.services[app]?.environment ?? {})) {
      env[key] = interpolate(String(value ?? ''), {});
    }
  }
  return env;
}

const service = (app: string): ComposeService => files[0]!.services[app]!;
const portOf = (url: string) => Number(new URL(url).port);

describe('compose and the services agree', () => {
  for (const app of Object.keys(SCHEMAS)) {
    describe(app, () => {
      const schema = SCHEMAS[app]!;
      const env = environmentOf(app);
      const local = SERVICES.find((s) => s.name === app)!;

      it('sets only variables its config schema (or tracing) reads', () => {
        const known = new Set(Object.keys(schema.shape));
        const unknown = Object.keys(env).filter(
          (key) => !known.has(key) && !TELEMETRY_KEYS.has(key) && !RUNTIME_KEYS.has(key),
        );
        assert.deepEqual(unknown, []);
      });

      it('gives it a config that loads: every required key set, every value valid', () => {
        try {
          loadConfig(app, schema, env);
        } catch (err) {
          assert.fail(err instanceof ConfigError ? err.message : String(err));
        }
      });

      it('listens on the port its image is built for, probes and publishes', () => {
        const port = Number(env['PORT']);
        assert.equal(port, local.port, 'the port npm start uses');
        assert.equal(service(app).build?.args?.['PORT'], String(port), 'the image build arg');
        const probe = service(app).healthcheck?.test.join(' ') ?? '';
        assert.match(probe, new RegExp(`http://127\\.0\\.0\\.1:${port}/ready`), 'the healthcheck');
        assert.equal(Number(env['ADMIN_PORT']), local.adminPort, 'the admin port npm start uses');
      });

      it('is called by the others on the port it listens on', () => {
        for (const other of Object.keys(SCHEMAS)) {
          for (const [key, value] of Object.entries(environmentOf(other))) {
            if (!/^https?:\/\//.test(value) || new URL(value).hostname !== app) continue;
            assert.equal(portOf(value), local.port, `${other} ${key}=${value}`);
          }
        }
      });
    });
  }

  it('probes /ready, the readiness path every service serves', () => {
    for (const app of Object.keys(SCHEMAS)) {
      assert.match(service(app).healthcheck?.test.join(' ') ?? '', /\/ready'\)/);
    }
  });
});
