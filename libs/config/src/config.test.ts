import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { z } from 'zod';
import {
  ConfigError,
  EXIT_CONFIG,
  describeConfig,
  field,
  loadConfig,
  serviceConfigShape,
} from './index.ts';

const schema = z.object({
  ...serviceConfigShape(3000),
  DATABASE_URL: z.url().describe('database'),
  FEATURE_ON: field.boolean(false, 'a feature switch'),
  RETRY_MS: field.milliseconds(250, 'retry delay', { min: 10, max: 1000 }),
});

describe('loadConfig', () => {
  it('returns typed values with defaults, frozen', () => {
    const config = loadConfig('svc', schema, {
      DATABASE_URL: 'postgres://db/x',
      FEATURE_ON: 'true',
      PORT: '8081',
    });
    assert.equal(config.PORT, 8081);
    assert.equal(config.HOST, '0.0.0.0');
    assert.equal(config.FEATURE_ON, true);
    assert.equal(config.RETRY_MS, 250);
    assert.equal(config.LOG_LEVEL, 'info');
    assert.ok(Object.isFrozen(config));
    assert.throws(() => {
      (config as { PORT: number }).PORT = 1;
    }, TypeError);
  });

  it('reports every bad key at once, by name', () => {
    const env = {
      PORT: '-1',
      FEATURE_ON: 'maybe',
      RETRY_MS: '5',
      LOG_LEVEL: 'loud',
      BODY_LIMIT: 'huge',
    };
    assert.throws(
      () => loadConfig('svc', schema, env),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.deepEqual(err.issues.map((i) => i.key).sort(), [
          'BODY_LIMIT',
          'DATABASE_URL',
          'FEATURE_ON',
          'LOG_LEVEL',
          'PORT',
          'RETRY_MS',
        ]);
        assert.match(err.message, /svc: invalid configuration \(6 problems\)/);
        return true;
      },
    );
  });

  it('treats an empty value as unset, so the default applies', () => {
    const config = loadConfig('svc', schema, { DATABASE_URL: 'postgres://db/x', PORT: '' });
    assert.equal(config.PORT, 3000);
  });

  it('ignores variables the schema does not name', () => {
    const config = loadConfig('svc', schema, { DATABASE_URL: 'postgres://db/x', UNRELATED: 'x' });
    assert.equal('UNRELATED' in config, false);
  });
});

describe('loadConfigOrExit', () => {
  it('prints every problem and exits 78 before anything else runs', () => {
    const script = `
      import { z } from 'zod';
      import { loadConfigOrExit } from './src/index.ts';
      loadConfigOrExit('demo', z.object({ A: z.coerce.number(), B: z.url() }), { A: 'x', B: 'y' });
      console.log('still running');
    `;
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: new URL('..', import.meta.url),
      encoding: 'utf8',
    });
    assert.equal(result.status, EXIT_CONFIG);
    assert.match(result.stderr, /demo: invalid configuration \(2 problems\)/);
    assert.match(result.stderr, /- A:/);
    assert.match(result.stderr, /- B:/);
    assert.doesNotMatch(result.stdout, /still running/);
  });
});

describe('describeConfig', () => {
  it('lists each key with its default and description', () => {
    const rows = describeConfig(schema);
    const port = rows.find((r) => r.key === 'PORT');
    assert.deepEqual(port, { key: 'PORT', default: 3000, description: 'HTTP port' });
    const database = rows.find((r) => r.key === 'DATABASE_URL');
    assert.deepEqual(database, { key: 'DATABASE_URL', description: 'database' });
  });
});
