// Builds an app's image from docker/Dockerfile and tags it with the git commit:
//   node tools/scripts/src/docker-build.ts <app> [--dry-run]
// (`npx nx docker-build <app>`, or `npx nx affected -t docker-build` for what a change touches).
// IMAGE_REGISTRY sets the name prefix (default `flotilla`); NODE_IMAGE replaces the Dockerfile's
// Node.js base image (a mirror's, or one made locally by tools/infra/docker.sh base).
import { execFileSync, spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { dockerBuildArgs, imageRef, imageRegistry, nodeImage, type ImageBuild } from './image.ts';
import { SERVICES } from './services.ts';

const fail = (message: string, code = 1): never => {
  process.stderr.write(`docker-build: ${message}\n`);
  process.exit(code);
};

let parsed;
try {
  parsed = parseArgs({ allowPositionals: true, options: { 'dry-run': { type: 'boolean' } } });
} catch (err) {
  fail(`${(err as Error).message}\nusage: docker-build.ts <app> [--dry-run]`, 2);
}
const app = parsed?.positionals[0];
const service = SERVICES.find((s) => s.name === app);
if (!service) {
  fail(`unknown app "${app ?? ''}"; one of: ${SERVICES.map((s) => s.name).join(', ')}`, 2);
}

let registry = '';
let baseImage: string | undefined;
try {
  registry = imageRegistry(process.env);
  baseImage = nodeImage(process.env);
} catch (err) {
  fail((err as Error).message, 2);
}

const git = (...args: string[]) =>
  execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
let revision = '';
let dirty = false;
let source = 'https://example.com/flotilla';
try {
  revision = git('rev-parse', 'HEAD');
  dirty = git('status', '--porcelain').length > 0;
  source = git('remote', 'get-url', 'origin') || source;
} catch {
  if (!revision) fail('not in a git checkout: the image tag is the commit id');
}
const build: ImageBuild = {
  app: service!.name,
  port: service!.port,
  revision,
  dirty,
  registry,
  source,
  ...(baseImage ? { nodeImage: baseImage } : {}),
};
const args = dockerBuildArgs(build);
process.stdout.write(`docker ${args.join(' ')}\n`);
if (parsed?.values['dry-run']) process.exit(0);

if (spawnSync('docker', ['info'], { stdio: 'ignore' }).status !== 0) {
  fail(
    'no Docker engine answers (`docker info` failed). Start one, or use --dry-run to print the build command.',
  );
}
// The Dockerfile needs BuildKit (cache mounts); older clients build with it only when asked to.
const result = spawnSync('docker', args, {
  stdio: 'inherit',
  env: { ...process.env, DOCKER_BUILDKIT: '1' },
});
if (result.status !== 0) fail(`docker build failed (exit ${result.status ?? 'signal'})`);
process.stdout.write(`built ${imageRef(build)}\n`);
