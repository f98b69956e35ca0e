import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort, until, waitFor } from '@flotilla/testing';
import { isInstanceAlive, localSystemStore, type Instance } from './local-system.ts';
import { supervisorClient } from './supervisor-client.ts';
import { createSupervisor, type StartRequest } from './supervisor.ts';

const ADMIN_TOKEN = 'supervisor-admin-token-for-tests-0123456789';
const SERVICE = 'echo-service';

/**
 * A service in one line: answers every request with its GREETING, and on SIGTERM says so and closes
 * its server before it exits (a drain).
 */
const ECHO = [
  '-e',
  [
    'const s = require("http").createServer((q, r) => r.end(process.env.GREETING))',
    '.listen(Number(process.env.PORT), "127.0.0.1", () => console.log("listening"));',
    'process.on("SIGTERM", () => { console.log("draining"); s.close(() => process.exit(0)); });',
  ].join(''),
];

let root: string;
let store: ReturnType<typeof localSystemStore>;
let supervisor: ReturnType<typeof createSupervisor>;
let server: Server;
let url: string;
let client: ReturnType<typeof supervisorClient>;
const said: string[] = [];
const exited: { service: string; instance: Instance }[] = [];

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'flotilla-supervisor-'));
  store = localSystemStore(join(root, 'local'));
  store.writeService({ name: SERVICE, env: { GREETING: 'hello from the service' }, instances: [] });
  supervisor = createSupervisor({
    store,
    adminToken: ADMIN_TOKEN,
    say: (line) => said.push(line),
    format: (line) => line.toUpperCase(),
    onExit: (service, instance) => exited.push({ service, instance }),
  });
  ({ url, server } = await supervisor.listen());
  client = supervisorClient({ supervisor: { url }, adminToken: ADMIN_TOKEN });
});

after(async () => {
  await supervisor.stopAll();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  rmSync(root, { recursive: true, force: true });
});

let dirs = 0;
/** What a release asks for: an instance of the echo service in a working directory of its own. */
async function startRequest(label: string, overrides: Partial<StartRequest> = {}) {
  const dir = join(root, `work-${++dirs}`);
  mkdirSync(dir);
  const port = await freePort();
  return {
    label,
    version: `0123456789ab-${label}`,
    dir,
    args: ECHO,
    port,
    adminPort: await freePort(),
    env: { PORT: String(port) },
    startedBy: 'supervisor.test',
    ...overrides,
  } satisfies StartRequest;
}

/** Waits for `probe` to see a value, polling often: the state it looks at changes within ms. */
const seen = <T>(what: string, probe: () => T | undefined) =>
  until(what, () => Promise.resolve(probe()), { intervalMs: 50, timeoutMs: 10_000 });

const answerOf = async (port: number) => {
  const res = await fetch(`http://127.0.0.1:${port}/`);
  return res.text();
};

describe('supervisor: starting and stopping instances', () => {
  it('starts an instance with the service environment, lists it alive, and it answers', async () => {
    const request = await startRequest('v2');

    const started = await client.start(SERVICE, request);

    assert.ok(started.pid > 0);
    assert.equal(
      await waitFor('the instance answers', () => answerOf(request.port)),
      'hello from the service',
    );
    const listed = await client.instances(SERVICE);
    assert.deepEqual(
      listed.map((i) => [i.label, i.version, i.pid, i.port, i.alive, i.exit]),
      [['v2', '0123456789ab-v2', started.pid, request.port, true, undefined]],
    );
    assert.deepEqual(
      store.readService(SERVICE)?.instances.map((i) => [i.label, i.pid, i.dir, i.startedBy]),
      [['v2', started.pid, request.dir, 'supervisor.test']],
    );
    await client.stop(SERVICE, 'v2');
  });

  it('drains and stops an instance on DELETE, and takes it out of the state', async () => {
    const request = await startRequest('v3');
    const started = await client.start(SERVICE, request);
    await waitFor('the instance answers', () => answerOf(request.port));

    const stopped = await client.stop(SERVICE, 'v3');

    assert.equal(stopped.pid, started.pid);
    assert.equal(isInstanceAlive(started), false, 'the process is gone once DELETE answers');
    assert.deepEqual(store.readService(SERVICE)?.instances, []);
    assert.deepEqual(await client.instances(SERVICE), []);
    await assert.rejects(answerOf(request.port));
    assert.ok(started.log);
    const log = started.log;
    await seen('the drain in its log', () =>
      readFileSync(log, 'utf8').includes('draining') ? true : undefined,
    );
    await seen('the drain in npm start output', () =>
      said.find((line) => line === `[${SERVICE} v3] DRAINING`),
    );
    assert.equal(
      exited.some((e) => e.instance.label === 'v3'),
      false,
      'a stopped instance did not exit on its own',
    );
  });

  it('keeps an instance that exits on its own as dead, with its exit, and tells onExit', async () => {
    const request = await startRequest('v4', { args: ['-e', 'process.exitCode = 3'] });

    const started = await client.start(SERVICE, request);

    const told = await seen('onExit called', () =>
      exited.find((e) => e.instance.pid === started.pid),
    );
    assert.equal(told.service, SERVICE);
    assert.equal(told.instance.label, 'v4');
    assert.deepEqual([told.instance.exit?.code, told.instance.exit?.signal], [3, null]);
    const listed = (await client.instances(SERVICE)).find((i) => i.label === 'v4');
    assert.equal(listed?.alive, false);
    assert.deepEqual([listed?.exit?.code, listed?.exit?.signal], [3, null]);
    assert.equal(
      store.readService(SERVICE)?.instances.find((i) => i.label === 'v4')?.exit?.code,
      3,
    );
    await client.stop(SERVICE, 'v4');
  });

  it('starts a label again once its process is dead, in place of the dead one', async () => {
    const dead = await client.start(SERVICE, await startRequest('v5', { args: ['-e', ''] }));
    await seen('the first process dead', () => exited.find((e) => e.instance.pid === dead.pid));
    const request = await startRequest('v5');

    const again = await client.start(SERVICE, request);

    await waitFor('the new instance answers', () => answerOf(request.port));
    const listed = (await client.instances(SERVICE)).filter((i) => i.label === 'v5');
    assert.deepEqual(
      listed.map((i) => [i.pid, i.alive]),
      [[again.pid, true]],
    );
    await client.stop(SERVICE, 'v5');
  });

  it('lists every service with its instances on GET /v1/services', async () => {
    const request = await startRequest('v6');
    await client.start(SERVICE, request);

    const res = await fetch(`${url}/v1/services`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });

    assert.equal(res.status, 200);
    const services = (await res.json()) as { name: string; instances: { label: string }[] }[];
    assert.deepEqual(
      services.map((s) => [s.name, s.instances.map((i) => i.label)]),
      [[SERVICE, ['v6']]],
    );
    await client.stop(SERVICE, 'v6');
  });
});

describe('supervisor: what it refuses', () => {
  it('answers 401 without the admin token, or with another one', async () => {
    const without = await fetch(`${url}/v1/services`);
    const wrong = supervisorClient({ supervisor: { url }, adminToken: `${ADMIN_TOKEN}x` });

    assert.equal(without.status, 401);
    assert.equal(without.headers.get('content-type'), 'application/problem+json');
    await assert.rejects(wrong.instances(SERVICE), /refused GET \/echo-service\/instances: 401 /);
    await assert.rejects(wrong.start(SERVICE, await startRequest('v7')), /401 the admin token/);
  });

  it('answers 400 naming the field for a start it cannot take, and starts nothing', async () => {
    await assert.rejects(
      client.start(SERVICE, await startRequest('v8', { port: 70_000 })),
      /400 port: /,
    );
    await assert.rejects(client.start(SERVICE, await startRequest('../v8')), /400 label: /);
    await assert.rejects(
      client.start(SERVICE, await startRequest('v8', { args: [] })),
      /400 args: /,
    );
    const notJson = await fetch(`${url}/v1/services/${SERVICE}/instances`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: '{"label":',
    });
    assert.equal(notJson.status, 400);
    assert.match(((await notJson.json()) as { detail: string }).detail, /not JSON/);
    assert.deepEqual(await client.instances(SERVICE), []);
  });

  it('answers 404 for a service that is not part of the system, and for a label it does not run', async () => {
    await assert.rejects(
      client.instances('no-such-service'),
      /404 no-such-service is not part of the running system/,
    );
    await assert.rejects(
      client.start('no-such-service', await startRequest('v9')),
      /404 no-such-service is not part of the running system/,
    );
    await assert.rejects(client.stop(SERVICE, 'v9'), /404 echo-service has no instance v9/);
  });

  it('answers 409 for a label that already runs, and leaves the running one alone', async () => {
    const request = await startRequest('v10');
    const running = await client.start(SERVICE, request);

    await assert.rejects(
      client.start(SERVICE, await startRequest('v10')),
      new RegExp(`409 ${SERVICE} v10 already runs \\(pid ${running.pid}\\)`),
    );

    assert.equal(
      await waitFor('the first one answers', () => answerOf(request.port)),
      'hello from the service',
    );
    assert.deepEqual(
      (await client.instances(SERVICE)).map((i) => [i.label, i.pid, i.alive]),
      [['v10', running.pid, true]],
    );
    await client.stop(SERVICE, 'v10');
  });
});
