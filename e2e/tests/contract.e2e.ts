// The API contract: every service's OpenAPI document and the gateway's combined one are valid
// OpenAPI 3.1, the combined one is exactly the services' documents under the gateway's paths with
// the gateway's own answers, and schemathesis, a property-based fuzzer, finds no answer that the
// documents do not declare, no schema-valid request refused, no invalid one accepted, and no
// object of one user readable by another.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Validator } from '@seriousme/openapi-schema-validator';
import pg from 'pg';
import { gatewayClient } from '../src/client.ts';
import { startSystem, type System } from '../src/system.ts';

/** The pinned version, in the requirements file .ci/run installs from. */
const REQUIREMENTS = fileURLToPath(new URL('../schemathesis/requirements.txt', import.meta.url));
const PINNED = /schemathesis==([\d.]+)/.exec(readFileSync(REQUIREMENTS, 'utf8'))?.[1] ?? '';
/** The virtualenv .ci/run makes; FLOTILLA_SCHEMATHESIS names another `st`. */
const ST =
  process.env['FLOTILLA_SCHEMATHESIS'] ?? join(homedir(), '.cache/flotilla-schemathesis/bin/st');

/** What every run does: all phases, every check, a fixed seed, enough cases to matter. */
const FUZZ_SETTINGS = {
  phases: 'examples,coverage,fuzzing,stateful',
  checks: 'all',
  maxExamples: 100,
  seed: 20261130,
} as const;

type Doc = {
  openapi: string;
  paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
};

let system: System;
let scratch: string;
const users: Record<'alice' | 'bob' | 'admin', { id: string; token: string }> = {} as never;

before(async () => {
  system = await startSystem({
    // The fuzzer is one client sending thousands of requests; the limiter is tested elsewhere.
    RATE_LIMIT_CLIENT_PER_MINUTE: '10000000',
    RATE_LIMIT_USER_PER_MINUTE: '10000000',
    RATE_LIMIT_BURST: '100000',
  });
  scratch = mkdtempSync(join(tmpdir(), 'flotilla-contract-'));
  const { newCustomer, api } = gatewayClient(() => system.gateway);
  users.alice = await newCustomer();
  users.bob = await newCustomer();
  // An admin, made the only way there is: a user promoted in the database.
  const admin = await newCustomer();
  const db = new pg.Client({ connectionString: system.databases.users });
  await db.connect();
  const { rows } = await db.query<{ email: string }>(
    "UPDATE users SET role = 'admin' WHERE id = $1 RETURNING email",
    [admin.id],
  );
  await db.end();
  const login = await api('POST', '/auth/login', {
    body: { email: rows[0]?.email, password: 'correct horse battery staple' },
  });
  assert.equal(login.status, 200);
  users.admin = { id: admin.id, token: login.body['accessToken'] as string };
});

after(async () => {
  await system?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

const documentOf = async (url: string) => {
  const res = await fetch(url);
  assert.equal(res.status, 200, url);
  return (await res.json()) as Doc;
};
const serviceDocs = () =>
  Promise.all(
    (['user-service', 'order-service', 'payment-service'] as const).map(async (name) => ({
      name,
      doc: await documentOf(`${system.services[name]?.url}/openapi.json`),
    })),
  );

describe('the OpenAPI documents', () => {
  it('are valid OpenAPI 3.1, each service and the gateway', async () => {
    const docs = [
      ...(await serviceDocs()),
      { name: 'gateway', doc: await documentOf(`${system.gateway}/api/openapi.json`) },
    ];
    for (const { name, doc } of docs) {
      const result = await new Validator().validate(doc);
      assert.equal(result.valid, true, `${name}: ${JSON.stringify(result.errors, null, 2)}`);
      assert.equal(doc.openapi, '3.1.0');
    }
  });

  it("the gateway's is the union of the services' under /api, with the gateway's own answers", async () => {
    const combined = await documentOf(`${system.gateway}/api/openapi.json`);
    const gatewayAnswers = ['429', '502', '503', '504'];
    const expected: Doc['paths'] = {};
    const schemas: Record<string, unknown> = {};
    const schemes: Record<string, unknown> = {};
    for (const { doc } of await serviceDocs()) {
      for (const [path, item] of Object.entries(doc.paths)) {
        expected[`/api${path}`] = Object.fromEntries(
          Object.entries(item).map(([method, op]) => [
            method,
            {
              ...op,
              responses: Object.fromEntries(
                [...new Set([...Object.keys(op.responses), ...gatewayAnswers])]
                  .sort()
                  .map((status) => [
                    status,
                    combined.paths[`/api${path}`]?.[method]?.responses[status],
                  ]),
              ),
            },
          ]),
        );
        // Every answer of the service is there, with its content; the gateway's are added.
        for (const [method, op] of Object.entries(item)) {
          for (const [status, response] of Object.entries(op.responses)) {
            const served = combined.paths[`/api${path}`]?.[method]?.responses[status] as
              Record<string, unknown> | undefined;
            assert.ok(served, `${method} /api${path} ${status}`);
            const { description, ...rest } = response as Record<string, unknown>;
            const { description: servedDescription, ...servedRest } = served;
            assert.deepEqual(servedRest, rest, `${method} /api${path} ${status}`);
            assert.ok(String(servedDescription).startsWith(String(description)));
          }
        }
      }
      Object.assign(schemas, doc.components.schemas);
      Object.assign(schemes, doc.components.securitySchemes);
    }
    assert.deepEqual(combined.paths, expected);
    assert.deepEqual(combined.components, { schemas, securitySchemes: schemes });
    for (const item of Object.values(combined.paths))
      for (const op of Object.values(item))
        for (const status of gatewayAnswers)
          assert.deepEqual((op.responses[status] as { content?: unknown }).content, {
            'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } },
          });
  });
});

/**
 * One schemathesis run against a document. Two users are peers (alice's objects must never reach
 * bob, and the other way round); an admin comes last, for what only an admin may do (refunds).
 */
async function fuzz(name: string, documentUrl: string, baseUrl: string, overrides: string[] = []) {
  const dir = mkdtempSync(join(scratch, `${name}-`));
  const header = (token: string) => [{ name: 'Authorization', value: `Bearer ${token}` }];
  writeFileSync(
    join(dir, 'auth.json'),
    JSON.stringify({
      auth: (['alice', 'bob', 'admin'] as const).map((who) => ({
        name: who,
        fixedHeaders: header(users[who].token),
      })),
    }),
  );
  writeFileSync(
    join(dir, 'schemathesis.toml'),
    [
      '[warnings]',
      // Any warning fails the run: unusable patterns, failed authentication, missing test data.
      'fail-on = true',
      '',
      '[auth.wfc]',
      `path = "${join(dir, 'auth.json')}"`,
      'peers = ["alice", "bob"]',
      '',
      // Ids drawn at random name nobody's objects; now and then a path id is alice's own, so
      // her profile is read and changed too (and bob is refused it).
      '[dictionaries.own-ids]',
      `values = ["${users.alice.id}"]`,
      '',
      '[parameters]',
      '"path.id" = { dictionary = "own-ids", probability = 0.3 }',
      '',
      // A reused Idempotency-Key with another body is 422 (draft-ietf-httpapi-idempotency-key):
      // a conflict with an earlier request, as 409 is, not a refusal of valid data.
      '[checks.positive_data_acceptance]',
      'expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]',
      '',
    ].join('\n'),
  );
  const report = join(dir, 'report.json');
  const args = [
    '--config-file',
    join(dir, 'schemathesis.toml'),
    'run',
    documentUrl,
    '--url',
    baseUrl,
    '--phases',
    FUZZ_SETTINGS.phases,
    '--checks',
    FUZZ_SETTINGS.checks,
    '--max-examples',
    String(FUZZ_SETTINGS.maxExamples),
    '--seed',
    String(FUZZ_SETTINGS.seed),
    '--workers',
    '1',
    '--report',
    'json',
    '--report-json-path',
    report,
    '--no-color',
    ...overrides,
  ];
  const started = performance.now();
  const { code, output } = await new Promise<{ code: number | null; output: string }>(
    (resolve, reject) => {
      // In the run's own directory: schemathesis keeps a cache in its working directory.
      // Plain output, as in a log: no live display, whatever the parent's terminal settings.
      const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'dumb', NO_COLOR: '1' };
      delete env['FORCE_COLOR'];
      const child = spawn(ST, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env });
      let text = '';
      child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
      child.once('error', (err) =>
        reject(
          new Error(
            `could not run ${ST} (${err.message}): install it with .ci/run, or python3 -m venv ~/.cache/flotilla-schemathesis && ~/.cache/flotilla-schemathesis/bin/pip install -r e2e/schemathesis/requirements.txt`,
          ),
        ),
      );
      child.once('exit', (exitCode) => resolve({ code: exitCode, output: text }));
    },
  );
  const seconds = (performance.now() - started) / 1000;
  const summary = output.slice(output.lastIndexOf('SUMMARY')).trim();
  process.stdout.write(`\n[contract] ${name}: ${seconds.toFixed(0)} s\n${summary}\n`);
  return { code, output, seconds, report };
}

describe("one user's objects", () => {
  it('are never readable by another user', async () => {
    const { api, placeOrder } = gatewayClient(() => system.gateway);
    const placed = await placeOrder(users.alice.token);
    assert.equal(placed.status, 201);
    const order = placed.body;
    const asBob = { token: users.bob.token };
    assert.equal((await api('GET', `/orders/${order['id'] as string}`, asBob)).status, 404);
    assert.equal((await api('POST', `/orders/${order['id'] as string}/cancel`, asBob)).status, 404);
    assert.equal(
      (await api('GET', `/payments/${order['paymentId'] as string}`, asBob)).status,
      403,
    );
    assert.deepEqual(
      (await api('GET', `/payments?orderId=${order['id'] as string}`, asBob)).body['items'],
      [],
    );
    assert.equal((await api('GET', `/users/${users.alice.id}`, asBob)).status, 403);
    const listed = await api('GET', '/orders?limit=100', asBob);
    assert.ok(!JSON.stringify(listed.body).includes(order['id'] as string));
    // And alice still reads all of it.
    const asAlice = { token: users.alice.token };
    assert.equal((await api('GET', `/orders/${order['id'] as string}`, asAlice)).status, 200);
    assert.equal(
      (await api('GET', `/payments/${order['paymentId'] as string}`, asAlice)).status,
      200,
    );
  });
});

describe('schemathesis against every document', () => {
  it('fails on an answer the document does not declare (negative control)', async () => {
    // order-service's document without the 404 of getOrder: a random id is answered 404.
    const doc = await documentOf(`${system.services['order-service']?.url}/openapi.json`);
    const getOrder = doc.paths['/orders/{id}']?.['get'];
    assert.ok(getOrder?.responses['404']);
    delete getOrder.responses['404'];
    const file = join(scratch, 'order-service-without-404.json');
    writeFileSync(file, JSON.stringify(doc));
    const { code, output } = await fuzz(
      'negative control',
      file,
      system.services['order-service']?.url ?? '',
      ['--include-operation-id', 'getOrder', '--max-examples', '10', '--phases', 'fuzzing'],
    );
    assert.notEqual(code, 0);
    assert.match(output, /ST103 Undocumented status code\s+Received: 404/);
  });

  it(`is schemathesis ${PINNED}, as pinned`, async () => {
    const version = await new Promise<string>((resolve, reject) => {
      const child = spawn(ST, ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] });
      let text = '';
      child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
      child.once('error', reject);
      child.once('exit', () => resolve(text));
    });
    assert.match(version, new RegExp(`\\b${PINNED.replaceAll('.', '\\.')}\\b`));
  });

  const targets = [
    { name: 'user-service', doc: () => `${system.services['user-service']?.url}/openapi.json` },
    { name: 'order-service', doc: () => `${system.services['order-service']?.url}/openapi.json` },
    {
      name: 'payment-service',
      doc: () => `${system.services['payment-service']?.url}/openapi.json`,
    },
    { name: 'gateway', doc: () => `${system.gateway}/api/openapi.json` },
  ];
  for (const target of targets) {
    it(`finds no failure, error or warning in ${target.name}'s document`, async () => {
      const base =
        target.name === 'gateway' ? system.gateway : (system.services[target.name]?.url ?? '');
      const { code, output } = await fuzz(target.name, target.doc(), base);
      assert.match(output, /No issues found/, output.slice(-6000));
      assert.equal(code, 0, output.slice(-6000));
      // Every phase ran, and the stateful one followed links.
      for (const phase of ['Examples', 'Coverage', 'Fuzzing', 'Stateful'])
        assert.match(output, new RegExp(`(✅|⏭)\\s+${phase}`), phase);
      assert.match(output, /API Links:\s+\d+ covered/);
    });
  }
});
