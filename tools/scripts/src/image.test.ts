import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  dockerBuildArgs,
  imageRef,
  imageRegistry,
  imageTag,
  nodeImage,
  type ImageBuild,
} from './image.ts';

const REVISION = '0123456789abcdef0123456789abcdef01234567';
const build: ImageBuild = {
  app: 'order-service',
  port: 3002,
  revision: REVISION,
  dirty: false,
  registry: 'ghcr.io/acme/',
  source: 'https://git.example.com/acme/flotilla',
};

describe('image tags', () => {
  it('tags an image with the short commit id', () => {
    assert.equal(imageTag(build), '0123456789ab');
    assert.equal(imageRef(build), 'ghcr.io/acme/order-service:0123456789ab');
  });

  it('marks an image built from uncommitted changes as dirty', () => {
    assert.equal(imageTag({ ...build, dirty: true }), '0123456789ab-dirty');
  });

  it('refuses anything that is not a full commit id', () => {
    assert.throws(() => imageTag({ revision: 'latest', dirty: false }), /not a commit id/);
  });

  it('passes the app, port, version, revision and source to docker/Dockerfile', () => {
    const args = dockerBuildArgs(build);
    const buildArgs = args.filter((_, i) => args[i - 1] === '--build-arg');
    assert.deepEqual(buildArgs, [
      'APP=order-service',
      'PORT=3002',
      'VERSION=0123456789ab',
      `REVISION=${REVISION}`,
      'SOURCE=https://git.example.com/acme/flotilla',
    ]);
    assert.deepEqual(args.slice(0, 5), [
      'build',
      '--file',
      'docker/Dockerfile',
      '--target',
      'runtime',
    ]);
    assert.equal(args.at(-1), '.');
  });

  it('passes another Node.js base image as NODE_IMAGE only when one is given', () => {
    const args = dockerBuildArgs({ ...build, nodeImage: 'localhost/node:24.22.3-bookworm' });
    assert.ok(args.includes('NODE_IMAGE=localhost/node:24.22.3-bookworm'));
    assert.equal(
      args[args.indexOf('NODE_IMAGE=localhost/node:24.22.3-bookworm') - 1],
      '--build-arg',
    );
    assert.ok(!dockerBuildArgs(build).some((arg) => arg.startsWith('NODE_IMAGE=')));
  });
});

describe('nodeImage', () => {
  it('takes NODE_IMAGE, or nothing (the Dockerfile default) when it is unset or blank', () => {
    assert.equal(
      nodeImage({ NODE_IMAGE: 'localhost/node:24.22.3-bookworm' }),
      'localhost/node:24.22.3-bookworm',
    );
    assert.equal(
      nodeImage({ NODE_IMAGE: 'mirror.example.com:5000/library/node:24' }),
      'mirror.example.com:5000/library/node:24',
    );
    assert.equal(
      nodeImage({ NODE_IMAGE: `node@sha256:${'a'.repeat(64)}` }),
      `node@sha256:${'a'.repeat(64)}`,
    );
    assert.equal(nodeImage({}), undefined);
    assert.equal(nodeImage({ NODE_IMAGE: ' ' }), undefined);
  });

  it('refuses what is not an image reference', () => {
    for (const bad of [
      'Node:24',
      'node 24',
      'https://mirror/node:24',
      'node:',
      'node@sha256:abc',
    ]) {
      assert.throws(() => nodeImage({ NODE_IMAGE: bad }), /NODE_IMAGE must be an image reference/);
    }
  });
});

describe('imageRegistry', () => {
  it('takes IMAGE_REGISTRY, or flotilla when it is unset or blank', () => {
    assert.equal(imageRegistry({ IMAGE_REGISTRY: 'ghcr.io/acme' }), 'ghcr.io/acme');
    assert.equal(imageRegistry({ IMAGE_REGISTRY: 'localhost:5000/team/' }), 'localhost:5000/team/');
    assert.equal(imageRegistry({}), 'flotilla');
    assert.equal(imageRegistry({ IMAGE_REGISTRY: ' ' }), 'flotilla');
  });

  it('refuses a name Docker would refuse', () => {
    for (const bad of ['GHCR.io/Acme', 'ghcr.io/acme team', 'https://ghcr.io/acme']) {
      assert.throws(() => imageRegistry({ IMAGE_REGISTRY: bad }), /IMAGE_REGISTRY must be/);
    }
  });
});

describe('docker-build.ts', () => {
  const script = fileURLToPath(new URL('./docker-build.ts', import.meta.url));
  const root = fileURLToPath(new URL('../../../', import.meta.url));

  it('prints the build command for an app, tagged with the checked-out commit, with --dry-run', () => {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    const out = execFileSync(process.execPath, [script, 'payment-service', '--dry-run'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, IMAGE_REGISTRY: 'registry.test/flotilla' },
    });
    assert.match(out, /^docker build --file docker\/Dockerfile /);
    assert.match(
      out,
      new RegExp(`--tag registry\\.test/flotilla/payment-service:${head.slice(0, 12)}`),
    );
    assert.match(out, /--build-arg PORT=3003/);
  });

  it('exits 2 on a bad IMAGE_REGISTRY, naming the variable', () => {
    const result = spawnSync(process.execPath, [script, 'gateway', '--dry-run'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, IMAGE_REGISTRY: 'Not A Registry' },
    });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /IMAGE_REGISTRY must be/);
  });

  it('builds from NODE_IMAGE when it is set, and exits 2 naming it when it is not an image', () => {
    const out = execFileSync(process.execPath, [script, 'gateway', '--dry-run'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, NODE_IMAGE: 'localhost/node:24.22.3-bookworm' },
    });
    assert.match(out, /--build-arg NODE_IMAGE=localhost\/node:24\.22\.3-bookworm /);
    const result = spawnSync(process.execPath, [script, 'gateway', '--dry-run'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, NODE_IMAGE: 'not an image' },
    });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /NODE_IMAGE must be an image reference/);
  });

  it('exits 2 with the list of apps when the app is unknown', () => {
    const result = spawnSync(process.execPath, [script, 'billing-service', '--dry-run'], {
      cwd: root,
      encoding: 'utf8',
    });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /unknown app "billing-service"; one of: user-service/);
  });
});
