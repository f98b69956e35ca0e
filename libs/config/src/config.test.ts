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
  DATABASE_URL: field.url('PostgreSQL connection string', ['postgres', 'postgresql']),
  FEATURE_ON: field.boolean(false, 'a feature switch'),
  RETRY_MS: field.milliseconds(250, 'retry delay', { min: 10, max: 1000 }),
  CACHE_SIZE: field.integer(100, 'entries kept', { min: 1, max: 500 }),
});

const validEnv = { DATABASE_URL: 'postgres://db:5432/app' };

/** The keys a failing load reports, sorted. */
function badKeys(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig('svc', schema, env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, 'throws a ConfigError');
    return err.issues.map((issue) => issue.key).sort();
  }
  return [];
}

/** Runs an ES module in a child process from the lib folder, so `./src/index.ts` resolves. */
function runModule(source: string) {
  return spawnSync(process.execPath, ['--input-type=module', '-e', source], {
    cwd: new URL('..', import.meta.url),
    encoding: 'utf8',
    env: { PATH: process.env['PATH'] ?? '' },
  });
}

describe('loadConfig', () => {
  it('returns typed values, parsed from text, with defaults for unset keys', () => {
    const config = loadConfig('svc', schema, {
      ...validEnv,
      PORT: '8081',
      FEATURE_ON: 'true',
      RETRY_MS: '500',
    });

    assert.equal(config.PORT, 8081);
    assert.equal(config.FEATURE_ON, true);
    assert.equal(config.RETRY_MS, 500);
    assert.equal(config.DATABASE_URL, 'postgres://db:5432/app');
    assert.equal(config.HOST, '0.0.0.0');
    assert.equal(config.LOG_LEVEL, 'info');
    assert.equal(config.BODY_LIMIT, '100kb');
    assert.equal(config.CACHE_SIZE, 100);
    assert.equal(config.SHUTDOWN_TIMEOUT_MS, 25_000);
  });

  it('returns a frozen object', () => {
    const config = loadConfig('svc', schema, validEnv);

    assert.ok(Object.isFrozen(config));
    assert.throws(() => {
      (config as { PORT: number }).PORT = 1;
    }, TypeError);
  });

  it('reports every bad key at once, by its variable name', () => {
    const env = {
      PORT: '-1',
      FEATURE_ON: 'maybe',
      RETRY_MS: '5',
      LOG_LEVEL: 'loud',
      BODY_LIMIT: 'huge',
      CACHE_SIZE: 'many',
    };

    assert.deepEqual(badKeys(env), [
      'BODY_LIMIT',
      'CACHE_SIZE',
      'DATABASE_URL',
      'FEATURE_ON',
      'LOG_LEVEL',
      'PORT',
      'RETRY_MS',
    ]);
  });

  it('writes one message line per problem under a count', () => {
    assert.throws(
      () => loadConfig('svc', schema, { PORT: '70000' }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        const lines = err.message.split('\n');
        assert.equal(lines[0], 'svc: invalid configuration (2 problems):');
        assert.equal(lines.length, 3);
        assert.ok(lines.some((line) => line.startsWith('  - PORT: ')));
        assert.ok(lines.some((line) => line.startsWith('  - DATABASE_URL: ')));
        return true;
      },
    );
  });

  it('says "1 problem" for a single bad key', () => {
    assert.throws(() => loadConfig('svc', schema, {}), /svc: invalid configuration \(1 problem\):/);
  });

  it('treats an empty value as unset, so the default applies', () => {
    const config = loadConfig('svc', schema, { ...validEnv, PORT: '', FEATURE_ON: '' });

    assert.equal(config.PORT, 3000);
    assert.equal(config.FEATURE_ON, false);
  });

  it('treats a blank value as unset rather than as zero', () => {
    const config = loadConfig('svc', schema, { ...validEnv, PORT: '  ', RETRY_MS: ' ' });

    assert.equal(config.PORT, 3000);
    assert.equal(config.RETRY_MS, 250);
  });

  it('reports a required key given as an empty value as missing', () => {
    assert.deepEqual(badKeys({ DATABASE_URL: '' }), ['DATABASE_URL']);
  });

  it('ignores variables the schema does not name', () => {
    const config = loadConfig('svc', schema, { ...validEnv, UNRELATED: 'x' });

    assert.equal('UNRELATED' in config, false);
  });
});

describe('loadConfigOrExit', () => {
  it('prints every problem to stderr and exits 78 before the next line runs', () => {
    const result = runModule(`
      import { z } from 'zod';
      import { field, loadConfigOrExit } from './src/index.ts';
      const schema = z.object({ PORT: field.port(3000, 'port'), DATABASE_URL: z.url() });
      loadConfigOrExit('demo', schema, { PORT: 'abc' });
      console.log('still running');
    `);

    assert.equal(result.status, 78);
    assert.equal(result.status, EXIT_CONFIG);
    assert.match(result.stderr, /^demo: invalid configuration \(2 problems\):\n/);
    assert.match(result.stderr, /\n {2}- PORT: .+\n/);
    assert.match(result.stderr, /\n {2}- DATABASE_URL: .+\n/);
    assert.equal(result.stdout, '');
  });

  it('returns the config and lets the process go on when it is valid', () => {
    const result = runModule(`
      import { z } from 'zod';
      import { field, loadConfigOrExit } from './src/index.ts';
      const config = loadConfigOrExit('demo', z.object({ PORT: field.port(3000, 'port') }), {
        PORT: '4000',
      });
      console.log(JSON.stringify(config));
    `);

    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), { PORT: 4000 });
  });
});

describe('describeConfig', () => {
  it('lists every key of the schema in order', () => {
    const keys = describeConfig(schema).map((row) => row.key);

    assert.deepEqual(keys, Object.keys(schema.shape));
  });

  it('gives the default and description of each key, and no default for required keys', () => {
    const rows = describeConfig(schema);

    assert.deepEqual(
      rows.find((r) => r.key === 'PORT'),
      { key: 'PORT', default: 3000, description: 'HTTP port' },
    );
    assert.deepEqual(
      rows.find((r) => r.key === 'FEATURE_ON'),
      { key: 'FEATURE_ON', default: false, description: 'a feature switch' },
    );
    assert.deepEqual(
      rows.find((r) => r.key === 'DATABASE_URL'),
      { key: 'DATABASE_URL', description: 'PostgreSQL connection string' },
    );
  });

  it('gives an empty description to a key that has none', () => {
    const rows = describeConfig(z.object({ BARE: z.string() }));

    assert.deepEqual(rows, [{ key: 'BARE', description: '' }]);
  });
});

describe('field builders', () => {
  const parses = (type: z.ZodType, value: string) => type.safeParse(value).success;

  it('accepts ports from 0 to 65535 only, as whole numbers', () => {
    const port = field.port(8080, 'port');

    assert.equal(port.parse('0'), 0);
    assert.equal(port.parse('65535'), 65_535);
    assert.equal(port.parse(undefined), 8080);
    for (const bad of ['-1', '65536', '80.5', 'http']) {
      assert.equal(parses(port, bad), false, `${bad} is not a port`);
    }
  });

  it('accepts exactly "true" and "false" as booleans', () => {
    const flag = field.boolean(true, 'flag');

    assert.equal(flag.parse('true'), true);
    assert.equal(flag.parse('false'), false);
    assert.equal(flag.parse(undefined), true);
    for (const bad of ['TRUE', 'yes', '1', '0', 'on', 'maybe']) {
      assert.equal(parses(flag, bad), false, `${bad} is not a boolean`);
    }
  });

  it('bounds milliseconds between 0 and one hour unless told otherwise', () => {
    const delay = field.milliseconds(100, 'delay');

    assert.equal(delay.parse('0'), 0);
    assert.equal(delay.parse('3600000'), 3_600_000);
    assert.equal(parses(delay, '3600001'), false);
    assert.equal(parses(delay, '-1'), false);
    assert.equal(parses(delay, '1.5'), false);
  });

  it('applies custom millisecond bounds', () => {
    const delay = field.milliseconds(100, 'delay', { min: 10, max: 1000 });

    assert.equal(delay.parse('10'), 10);
    assert.equal(delay.parse('1000'), 1000);
    assert.equal(parses(delay, '9'), false);
    assert.equal(parses(delay, '1001'), false);
  });

  it('bounds integers and rejects fractions', () => {
    const count = field.integer(5, 'count', { min: 1, max: 10 });

    assert.equal(count.parse('1'), 1);
    assert.equal(count.parse('10'), 10);
    assert.equal(count.parse(undefined), 5);
    for (const bad of ['0', '11', '2.5', 'five']) {
      assert.equal(parses(count, bad), false, `${bad} is out of bounds`);
    }
  });

  it('accepts URLs only with the listed protocols', () => {
    const url = field.url('database', ['postgres', 'postgresql']);

    assert.equal(parses(url, 'postgres://db/app'), true);
    assert.equal(parses(url, 'postgresql://db/app'), true);
    assert.equal(parses(url, 'http://db/app'), false);
    assert.equal(parses(url, 'not a url'), false);
  });

  it('accepts pino log levels and defaults to info', () => {
    const level = field.logLevel();

    assert.equal(level.parse(undefined), 'info');
    assert.equal(level.parse('debug'), 'debug');
    assert.equal(level.parse('silent'), 'silent');
    assert.equal(parses(level, 'verbose'), false);
  });
});

describe('serviceConfigShape', () => {
  const shared = z.object(serviceConfigShape(4321));

  it('uses the given default port', () => {
    assert.equal(loadConfig('svc', shared, {}).PORT, 4321);
  });

  it('accepts body limits in b, kb or mb only', () => {
    for (const good of ['512b', '100kb', '1mb']) {
      assert.equal(loadConfig('svc', shared, { BODY_LIMIT: good }).BODY_LIMIT, good);
    }
    for (const bad of ['100', '1gb', '1 mb', 'huge']) {
      assert.throws(() => loadConfig('svc', shared, { BODY_LIMIT: bad }), ConfigError, bad);
    }
  });

  it('refuses a zero request, readiness or shutdown timeout', () => {
    const env = {
      HTTP_REQUEST_TIMEOUT_MS: '0',
      READINESS_CHECK_TIMEOUT_MS: '0',
      SHUTDOWN_TIMEOUT_MS: '0',
      SHUTDOWN_DRAIN_DELAY_MS: '0',
    };

    assert.throws(
      () => loadConfig('svc', shared, env),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.deepEqual(err.issues.map((i) => i.key).sort(), [
          'HTTP_REQUEST_TIMEOUT_MS',
          'READINESS_CHECK_TIMEOUT_MS',
          'SHUTDOWN_TIMEOUT_MS',
        ]);
        return true;
      },
    );
  });
});
