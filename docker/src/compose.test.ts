import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import {
  composeSpecSchema,
  composeValidator,
  interpolate,
  loadCompose,
  readCommentedSettings,
  readEnvFile,
  variablesIn,
} from './compose.ts';

const ROOT = new URL('../../', import.meta.url);
const FILES = [
  'docker-compose.yml',
  'docker/compose.observability.yml',
  'docker/compose.tools.yml',
];
const APPS = ['user-service', 'payment-service', 'order-service', 'gateway'];
const base = loadCompose(new URL('docker-compose.yml', ROOT).pathname);

describe('compose files against the Compose Specification schema', () => {
  let validate: (doc: unknown) => string[];
  before(() => {
    validate = composeValidator(composeSpecSchema());
  });

  for (const file of FILES) {
    it(`${file} is valid`, () => {
      assert.deepEqual(validate(loadCompose(new URL(file, ROOT).pathname)), []);
    });
  }

  it('the schema does catch a broken file', () => {
    const broken = {
      services: {
        api: {
          image: 'x',
          ports: [{ target: 'eighty' }],
          depends_on: { db: { condition: 'when_ready' } },
        },
      },
      volumes: 'not-a-map',
    };
    assert.ok(validate(broken).length >= 3, validate(broken).join('\n'));
  });
});

describe('docker-compose.yml', () => {
  const services = base.services;

  it('runs PostgreSQL, Redis, a migration job per database and the four services', () => {
    assert.deepEqual(Object.keys(services).sort(), [
      'gateway',
      'order-service',
      'order-service-migrate',
      'payment-service',
      'payment-service-migrate',
      'postgres',
      'redis',
      'user-service',
      'user-service-migrate',
    ]);
  });

  it('gives every long-running service a healthcheck and a restart policy', () => {
    for (const [name, service] of Object.entries(services)) {
      if (name.endsWith('-migrate')) continue;
      assert.ok(service.healthcheck?.test, `${name} has no healthcheck`);
      assert.equal(service.restart, 'unless-stopped', `${name} restart`);
    }
  });

  it('starts each service only after its migrations ran and what it needs is healthy', () => {
    for (const app of ['user-service', 'payment-service', 'order-service']) {
      assert.equal(
        services[app]?.depends_on?.[`${app}-migrate`]?.condition,
        'service_completed_successfully',
      );
      assert.equal(
        services[`${app}-migrate`]?.depends_on?.['postgres']?.condition,
        'service_healthy',
      );
      assert.deepEqual(services[`${app}-migrate`]?.command, ['migrate.js']);
      assert.equal(services[`${app}-migrate`]?.image, services[app]?.image);
    }
    for (const [name, service] of Object.entries(services)) {
      for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
        const expected = dependency.endsWith('-migrate')
          ? 'service_completed_successfully'
          : 'service_healthy';
        assert.equal(condition, expected, `${name} -> ${dependency}`);
      }
    }
  });

  it('builds each image once: a migration job runs the image its service builds, never pulling it', () => {
    const builders = new Map<string, string[]>();
    for (const [name, service] of Object.entries(services)) {
      if (!service.build || !service.image) continue;
      builders.set(service.image, [...(builders.get(service.image) ?? []), name]);
    }
    for (const [image, names] of builders)
      assert.equal(names.length, 1, `${image}: ${names.join(', ')}`);
    for (const app of ['user-service', 'payment-service', 'order-service']) {
      assert.equal(services[`${app}-migrate`]?.build, undefined, `${app}-migrate builds`);
      assert.equal(services[`${app}-migrate`]?.pull_policy, 'never', `${app}-migrate pulls`);
    }
  });

  it('keeps data in named volumes that are declared', () => {
    const named = Object.keys(base.volumes ?? {});
    assert.deepEqual(named.sort(), ['postgres-data', 'redis-data']);
    for (const service of ['postgres', 'redis']) {
      const mounts = services[service]?.volumes ?? [];
      assert.ok(
        mounts.some((m) => named.includes(m.split(':')[0]!)),
        `${service} has no named volume`,
      );
    }
  });

  it('creates one database per service in the PostgreSQL init script', () => {
    const mounts = services['postgres']?.volumes ?? [];
    const init = mounts.find((m) => m.includes('/docker-entrypoint-initdb.d/'));
    assert.ok(init, 'no init script is mounted');
    const script = readFileSync(new URL(init.split(':')[0]!.replace(/^\.\//, ''), ROOT), 'utf8');
    for (const db of ['flotilla_users', 'flotilla_orders', 'flotilla_payments'])
      assert.match(script, new RegExp(db));
  });

  it('pins every third-party image to a version, replaceable through a variable', () => {
    for (const file of FILES) {
      for (const [name, service] of Object.entries(
        loadCompose(new URL(file, ROOT).pathname).services,
      )) {
        if (!service.image || service.image.startsWith('flotilla/')) continue;
        assert.match(service.image, /^\$\{[A-Z]+_IMAGE:-[^}]+\}$/, `${file} ${name}`);
        assert.match(interpolate(service.image, {}), /:v?\d+\.\d+/, `${file} ${name}`);
      }
    }
  });

  it('passes NODE_IMAGE to every build from the environment only, so the Dockerfile pins it', () => {
    for (const file of FILES) {
      for (const [name, service] of Object.entries(
        loadCompose(new URL(file, ROOT).pathname).services,
      )) {
        if (!service.build) continue;
        assert.ok('NODE_IMAGE' in (service.build.args ?? {}), `${file} ${name}`);
        assert.equal(service.build.args?.['NODE_IMAGE'], null, `${file} ${name}`);
      }
    }
  });

  it('publishes the gateway on 8080 and every admin port on localhost only', () => {
    assert.ok(services['gateway']?.ports?.includes('8080:8080'));
    for (const app of APPS) {
      for (const port of services[app]?.ports ?? []) {
        if (port === '8080:8080') continue;
        assert.match(port, /^127\.0\.0\.1:/, `${app} publishes ${port} beyond localhost`);
      }
    }
  });
});

describe('.env.example', () => {
  const documented = readEnvFile(new URL('.env.example', ROOT).pathname);
  const baseImages = readCommentedSettings(new URL('.env.example', ROOT).pathname);
  const texts = FILES.map((file) => readFileSync(new URL(file, ROOT), 'utf8'));

  it('documents every variable the compose files use', () => {
    const used = new Set(texts.flatMap((text) => variablesIn(text)));
    const undocumented = [...used].filter(
      (name) =>
        !documented.has(name) &&
        !baseImages.has(name) &&
        !name.startsWith('LOADGEN_') &&
        name !== 'GRAFANA_ADMIN_PASSWORD',
    );
    assert.deepEqual(undocumented, []);
  });

  it('lists nothing the compose files do not use', () => {
    const text = texts.join('\n');
    for (const name of [...documented.keys(), ...baseImages.keys()])
      assert.ok(text.includes(`\${${name}`) || text.includes(` ${name}:\n`), `${name} is unused`);
  });

  it('names each base image with the default the files pin', () => {
    const dockerfile = readFileSync(new URL('docker/Dockerfile', ROOT), 'utf8');
    const defaults = new Map([
      ['NODE_IMAGE', /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1]],
      ...texts.flatMap((text) =>
        [...text.matchAll(/\$\{([A-Z]+_IMAGE):-([^}]+)\}/g)].map((m) => [m[1]!, m[2]!] as const),
      ),
    ]);
    assert.deepEqual(
      [...baseImages.entries()].sort(),
      [...defaults.entries()].sort(),
      'commented `# NAME=default` lines in .env.example',
    );
  });
});

describe('interpolation', () => {
  it('follows Compose: defaults for unset or empty, $$ for a dollar', () => {
    assert.equal(interpolate('${A:-x}/${B-y}/${C}/$$HOME', { B: '' }), 'x///$HOME');
    assert.equal(interpolate('${A:-x}', { A: 'set' }), 'set');
    assert.equal(interpolate('${A:-x}', { A: '' }), 'x');
  });
});
