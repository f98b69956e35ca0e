// The project's images on a real node (tools/infra/kube.sh up --real: containerd, kubelet,
// kube-proxy): built by `nx docker-build` with the project's Docker engine and loaded into the
// node, installed with the README's dev commands, beside PostgreSQL and Redis pods made from the
// base images. Probes gate the pods, the security settings hold at run time, the purchase flow
// works through the gateway's Service ClusterIP, and a version whose readiness never passes takes
// no traffic and is rolled back. Needs KUBECONFIG with the real node up and DOCKER_HOST
// (tools/infra/src/with-docker.ts -- tools/infra/src/with-kube.ts --real -- ...).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { gatewayClient } from '@flotilla/e2e/client';
import { kubeState, loadImages } from '@flotilla/infra/kube';
import { imageRef, imageRegistry } from '@flotilla/scripts/image';
import {
  ROOT,
  getJson,
  helmRun,
  kubectl,
  ok,
  runReadmeInstall,
  until,
} from '../cluster/kubectl.ts';

const NAMESPACE = 'flotilla-real';
const DATA = 'flotilla-real-data';
const APPS = [
  { app: 'user-service', port: 3001 },
  { app: 'payment-service', port: 3003 },
  { app: 'order-service', port: 3002 },
  { app: 'gateway', port: 8080 },
] as const;
const git = (...args: string[]) =>
  execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
const revision = git('rev-parse', 'HEAD');
const dirty = git('status', '--porcelain').length > 0;
const registry = imageRegistry(process.env);
const images = APPS.map(({ app, port }) =>
  imageRef({ app, port, revision, dirty, registry, source: '' }),
);
const tag = images[0]!.slice(images[0]!.lastIndexOf(':') + 1);
const postgresImage = process.env['POSTGRES_IMAGE'] || 'localhost/postgres:15-bookworm';
const redisImage = process.env['REDIS_IMAGE'] || 'localhost/redis:7-bookworm';
const figures: string[] = [];
const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

interface Pod {
  metadata: { name: string; labels: Record<string, string>; deletionTimestamp?: string };
  spec: { nodeName: string; containers: { image: string }[] };
  status: { podIP?: string; conditions?: { type: string; status: string }[] };
}
const isReady = (pod: Pod) =>
  pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
const podsOf = async (app: string) =>
  (
    await getJson<{ items: Pod[] }>([
      '-n',
      NAMESPACE,
      'get',
      'pods',
      '-l',
      `app.kubernetes.io/name=${app},app.kubernetes.io/component=server`,
    ])
  ).items.filter((p) => !p.metadata.deletionTimestamp);
const clusterIp = async (namespace: string, service: string) =>
  ok(
    'kubectl get svc',
    await kubectl(['-n', namespace, 'get', 'svc', service, '-o', 'jsonpath={.spec.clusterIP}']),
  );
const endpointIps = async (service: string) =>
  ok(
    'kubectl get endpoints',
    await kubectl([
      '-n',
      NAMESPACE,
      'get',
      'endpoints',
      service,
      '-o',
      'jsonpath={.subsets[*].addresses[*].ip}',
    ]),
  )
    .split(' ')
    .filter(Boolean);
const helmHistory = async () =>
  (
    JSON.parse(
      ok('helm history', await helmRun(['history', 'flotilla', '-n', NAMESPACE, '-o', 'json'])),
    ) as { revision: number; status: string; description: string }[]
  ).map((h) => `${h.revision} ${h.status}: ${h.description}`);

async function cleanUp(): Promise<void> {
  await helmRun(['uninstall', 'flotilla', '-n', NAMESPACE, '--wait', '--timeout', '90s']);
  for (const ns of [NAMESPACE, DATA])
    await kubectl(
      ['delete', 'namespace', ns, '--ignore-not-found', '--wait=true', '--timeout=120s'],
      {
        timeoutMs: 130_000,
      },
    );
}

before(async () => {
  assert.ok(
    kubeState().realNode,
    'the real node is down: run with tools/infra/src/with-kube.ts --real',
  );
  for (const image of [...images, postgresImage, redisImage]) {
    try {
      execFileSync('docker', ['image', 'inspect', '-f', 'ok', image], { stdio: 'ignore' });
    } catch (err) {
      throw new Error(
        `${image} is missing: npx nx docker-build <app>, tools/infra/docker.sh base`,
        {
          cause: err,
        },
      );
    }
  }
  await cleanUp();
});
after(async () => {
  await cleanUp();
  if (figures.length > 0) process.stdout.write(`\n${figures.join('\n')}\n`);
});

describe('the project on a real node', () => {
  const gateway = { url: '' };
  const { api, newCustomer, placeOrder } = gatewayClient(() => gateway.url);
  const databaseUrl = { host: '' };
  const adminToken = 'real-node-admin-token-0123456789abcdef';

  it('loads the images from the Docker engine into the node', () => {
    const started = Date.now();
    loadImages([...images, postgresImage, redisImage]);
    figures.push(`images loaded into the node: ${seconds(started)}`);
  });

  it('runs PostgreSQL and Redis as pods from the base images', async () => {
    const started = Date.now();
    ok('kubectl create namespace', await kubectl(['create', 'namespace', DATA]));
    ok(
      'kubectl create configmap',
      await kubectl([
        '-n',
        DATA,
        'create',
        'configmap',
        'postgres-init',
        `--from-file=10-databases.sh=${ROOT}docker/postgres/init-databases.sh`,
      ]),
    );
    const manifest = readFileSync(new URL('./backing-services.yaml', import.meta.url), 'utf8')
      .replaceAll('POSTGRES_IMAGE', postgresImage)
      .replaceAll('REDIS_IMAGE', redisImage);
    ok('kubectl apply', await kubectl(['-n', DATA, 'apply', '-f', '-'], { input: manifest }));
    for (const name of ['postgres', 'redis'])
      ok(
        `rollout of ${name}`,
        await kubectl(['-n', DATA, 'rollout', 'status', `deploy/${name}`, '--timeout=120s'], {
          timeoutMs: 130_000,
        }),
      );
    databaseUrl.host = await clusterIp(DATA, 'postgres');
    figures.push(`PostgreSQL and Redis pods ready: ${seconds(started)}`);
  });

  it("installs with the README's dev commands: migrations run, every pod passes its probes", async () => {
    const started = Date.now();
    // A throwaway password for the PostgreSQL pod this test starts and deletes.
    const db = (name: string) =>
      // secretlint-disable-next-line
      `postgres://flotilla:change-me-real-node-only@${databaseUrl.host}:5432/${name}`;
    const result = await runReadmeInstall({
      namespace: NAMESPACE,
      imageRegistry: registry,
      imageTag: tag,
      usersDatabaseUrl: db('flotilla_users'),
      paymentsDatabaseUrl: db('flotilla_payments'),
      ordersDatabaseUrl: db('flotilla_orders'),
      redisUrl: `redis://${await clusterIp(DATA, 'redis')}:6379`,
      adminToken,
      orderServiceClientSecret: 'real-node-order-service-secret-0123456789',
    });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    figures.push(`README dev install, migrations and four services Ready: ${seconds(started)}`);
    const state = kubeState();
    for (const { app } of APPS) {
      const [pod, ...more] = await podsOf(app);
      assert.equal(more.length, 0, app);
      assert.ok(pod && isReady(pod), `${app} is not Ready`);
      assert.equal(pod.spec.nodeName, state.realNode, `${app} runs on the real node`);
      assert.match(pod.spec.containers[0]!.image, new RegExp(`/${app}:${tag}$`));
    }
  });

  it('holds uid 10001, a read-only root, a writable /tmp and no capabilities at run time', async () => {
    const probe = [
      "const fs = require('node:fs');",
      "const status = fs.readFileSync('/proc/self/status', 'utf8');",
      'const field = (k) => new RegExp(`^${k}:\\\\s+(.*)$`, "m").exec(status)[1];',
      "let root = 'writable'; try { fs.writeFileSync('/probe', 'x'); } catch (e) { root = e.code; }",
      "fs.writeFileSync('/tmp/probe', 'x');",
      'console.log(JSON.stringify({ uid: process.getuid(), gid: process.getgid(), root,',
      "  capEff: field('CapEff'), capPrm: field('CapPrm'), noNewPrivs: field('NoNewPrivs'),",
      "  seccomp: field('Seccomp') }));",
    ].join('\n');
    for (const { app } of APPS) {
      const [pod] = await podsOf(app);
      const out = ok(
        `kubectl exec ${app}`,
        await kubectl(['-n', NAMESPACE, 'exec', pod!.metadata.name, '--', 'node', '-e', probe]),
      );
      assert.deepEqual(
        JSON.parse(out),
        {
          uid: 10001,
          gid: 10001,
          root: 'EROFS',
          capEff: '0000000000000000',
          capPrm: '0000000000000000',
          noNewPrivs: '1',
          seccomp: '2',
        },
        app,
      );
    }
  });

  it("serves the purchase flow through the gateway's Service ClusterIP once the services find each other", async () => {
    // No cluster DNS here: the services' URLs are set to the ClusterIPs (a rolling upgrade).
    const ip = Object.fromEntries(
      await Promise.all(
        APPS.map(async ({ app }) => [app, await clusterIp(NAMESPACE, app)] as const),
      ),
    ) as Record<string, string>;
    const urls = {
      USER_SERVICE_URL: `http://${ip['user-service']}:3001`,
      ORDER_SERVICE_URL: `http://${ip['order-service']}:3002`,
      PAYMENT_SERVICE_URL: `http://${ip['payment-service']}:3003`,
      AUTH_JWKS_URL: `http://${ip['user-service']}:3001/.well-known/jwks.json`,
    };
    const set = [
      ...['USER_SERVICE_URL', 'ORDER_SERVICE_URL', 'PAYMENT_SERVICE_URL', 'AUTH_JWKS_URL'].map(
        (k) => `gateway.env.${k}=${urls[k as keyof typeof urls]}`,
      ),
      ...['USER_SERVICE_URL', 'PAYMENT_SERVICE_URL', 'AUTH_JWKS_URL'].map(
        (k) => `order-service.env.${k}=${urls[k as keyof typeof urls]}`,
      ),
      `payment-service.env.AUTH_JWKS_URL=${urls.AUTH_JWKS_URL}`,
    ];
    const started = Date.now();
    ok(
      'helm upgrade',
      await helmRun(
        [
          'upgrade',
          'flotilla',
          'helm/flotilla',
          '-n',
          NAMESPACE,
          '--reuse-values',
          '--wait',
          '--timeout',
          '3m',
          ...set.flatMap((s) => ['--set', s]),
        ],
        { timeoutMs: 200_000 },
      ),
    );
    figures.push(`rolling upgrade of three services: ${seconds(started)}`);
    gateway.url = `http://${ip['gateway']}:8080`;
    const customer = await until('a customer through the gateway', async () => {
      const health = await fetch(`${gateway.url}/ready`).catch(() => undefined);
      return health?.ok ? newCustomer() : undefined;
    });
    const placed = await placeOrder(customer.token);
    assert.equal(placed.status, 201, JSON.stringify(placed.body));
    assert.equal(placed.body['status'], 'paid');
    const listed = await api('GET', '/orders', { token: customer.token });
    assert.equal(listed.status, 200);
    assert.ok(JSON.stringify(listed.body).includes(placed.body['id'] as string));
  });

  it('keeps traffic on the ready pod while a never-ready version rolls out, then rolls it back', async () => {
    const [stable] = await podsOf('user-service');
    const before = (await helmHistory()).length;
    const started = Date.now();
    const upgrade = helmRun(
      [
        'upgrade',
        'flotilla',
        'helm/flotilla',
        '-n',
        NAMESPACE,
        '--reuse-values',
        '--atomic',
        '--wait',
        '--timeout',
        '45s',
        '--set-string',
        'user-service.env.FAULT_READINESS_FAIL=true',
      ],
      { timeoutMs: 120_000 },
    );
    // the new pod starts and its readiness fails; the Service keeps only the stable pod
    const unready = await Promise.race([
      until('the never-ready pod', async () => {
        const pods = await podsOf('user-service');
        return pods.find((p) => p.metadata.name !== stable!.metadata.name && p.status.podIP);
      }),
      upgrade.then((result) => {
        throw new Error(`helm upgrade ended before a new pod started:\n${result.stderr}`);
      }),
    ]);
    let served = 0;
    for (let i = 0; i < 10; i++) {
      assert.deepEqual(await endpointIps('user-service'), [stable!.status.podIP]);
      const customer = await newCustomer();
      assert.ok(customer.token);
      served++;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const [fresh] = (await podsOf('user-service')).filter(
      (p) => p.metadata.name === unready.metadata.name,
    );
    assert.ok(!fresh || !isReady(fresh), 'the faulty pod never became Ready');
    const result = await upgrade;
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /rolled back|rollback/i);
    figures.push(
      `never-ready release refused and rolled back: ${seconds(started)}; ${served} sign-ups served meanwhile`,
    );
    const history = await helmHistory();
    assert.equal(history.length, before + 2, history.join('\n'));
    assert.match(history.at(-1)!, /deployed: Rollback to/);
    await until(
      'the faulty pod gone',
      async () => {
        const pods = await podsOf('user-service');
        return pods.length === 1 && pods[0]!.metadata.name === stable!.metadata.name
          ? true
          : undefined;
      },
      { timeoutMs: 90_000 },
    );
    const customer = await newCustomer();
    assert.equal((await placeOrder(customer.token)).body['status'], 'paid');
  });
});
