// kube.sh up and down for real, in a temporary cache (the builds taken from the installed prefix):
// the control plane and the real node start, answer on this machine only, run a pod, and down
// leaves the host as up found it. Needs root and `kube.sh install --real`. Where the project's
// cluster already runs (its ports are taken), up must refuse and leave that cluster alone.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseExports } from '../src/engine.ts';
import { KUBE_SH, kubeCacheDir, type KubeState } from '../src/kube.ts';

const prefix = join(kubeCacheDir(process.env), 'prefix');
const kubeSh = (args: string[], env: NodeJS.ProcessEnv) =>
  spawnSync('bash', [KUBE_SH, ...args], { env, encoding: 'utf8', timeout: 300_000 });
const installed = kubeSh(['env'], process.env).status === 0;

describe('kube.sh up and down', () => {
  let cache = '';
  const env = (): NodeJS.ProcessEnv => ({
    ...process.env,
    FLOTILLA_KUBE_CACHE: cache,
    FLOTILLA_KUBE_PREFIX: prefix,
  });
  after(async () => {
    if (!cache) return;
    kubeSh(['down'], env());
    await rm(cache, { recursive: true, force: true });
  });

  if (installed) {
    it('refuses to start beside the running cluster and leaves it running', async () => {
      cache = await mkdtemp(join(tmpdir(), 'flotilla-kube-'));
      const up = kubeSh(['up'], env());
      assert.equal(up.status, 1);
      assert.match(up.stderr, /port \d+ is taken by another program/);
      assert.equal(kubeSh(['env'], process.env).status, 0, 'the running cluster answers still');
    });
    return;
  }

  it('starts the control plane and a real node, runs a pod, and stops leaving the host as it was', async () => {
    assert.ok(
      existsSync(join(prefix, 'bin', 'kubelet')),
      'run tools/infra/kube.sh install --real first',
    );
    cache = await mkdtemp(join(tmpdir(), 'flotilla-kube-'));
    const before = kubeSh(['host'], env()).stdout;

    const up = kubeSh(['up', '--real'], env());
    assert.equal(up.status, 0, up.stderr);
    const exports = parseExports(up.stdout);
    assert.equal(exports['KUBECONFIG'], join(cache, 'state', 'kubeconfig'));
    const state = JSON.parse(kubeSh(['state'], env()).stdout) as KubeState;
    assert.equal(state.up, true);
    assert.equal(state.version, 'v1.33.13');
    assert.equal(state.realNode, 'real-node-0');
    assert.equal(state.server, 'https://127.0.0.1:26443');

    // what the cluster listens on: loopback, and the node's own bridge address (its kubelet)
    const listening = spawnSync('ss', ['-Hltnp'], { encoding: 'utf8' })
      .stdout.split('\n')
      .filter((line) => /"(etcd|kube-[a-z-]+|kubelet|kwok|containerd)"/.test(line))
      .map((line) => line.split(/\s+/)[3]!);
    assert.ok(listening.length >= 8, listening.join(' '));
    for (const address of listening) assert.match(address, /^(127\.0\.0\.1|10\.89\.0\.1):\d+$/);

    const kubectl = (...args: string[]) =>
      spawnSync('kubectl', args, {
        encoding: 'utf8',
        env: { ...env(), KUBECONFIG: exports['KUBECONFIG'] },
      });
    const run = kubectl(
      'run',
      'sandbox',
      '--image=localhost/pause:3.10',
      '--image-pull-policy=Never',
    );
    assert.equal(run.status, 0, run.stderr);
    const wait = kubectl('wait', '--for=condition=Ready', 'pod/sandbox', '--timeout=60s');
    assert.equal(wait.status, 0, wait.stderr);
    const pod = kubectl(
      'get',
      'pod',
      'sandbox',
      '-o',
      'jsonpath={.spec.nodeName} {.status.podIP}',
    ).stdout;
    assert.match(pod, /^real-node-0 10\.89\.0\.\d+$/);
    assert.notEqual(kubeSh(['host'], env()).stdout, before, 'the node changed the host');

    const down = kubeSh(['down'], env());
    assert.equal(down.status, 0, down.stderr);
    assert.match(
      down.stderr,
      /no process, mount, bridge, iptables rule, cgroup or sysctl of the cluster is left/,
    );
    assert.equal(kubeSh(['host'], env()).stdout, before);
    assert.equal(kubeSh(['env'], env()).status, 1);
  });
});
