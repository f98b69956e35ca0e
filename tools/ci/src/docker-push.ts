// Pushes an app's image (tagged by commit) and records its digest:
//   node tools/ci/src/docker-push.ts <app>   (npx nx docker-push <app>)
// Logs in first when REGISTRY_USER and REGISTRY_PASSWORD are set (the password goes on stdin).
// Writes dist/images/<app>.json: { app, image, revision, digest, pinned } where `pinned` is
// `<repository>@<digest>`, the reference a deploy can use that no later push can move.
// Exit 0: pushed; 1: docker failed; 2: bad usage or config (a `-dirty` tag is never pushed).
import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CliError, isMain, orExit, runCli } from './cli.ts';
import { currentImage, registryHost } from './image-ref.ts';

export interface PushRecord {
  app: string;
  image: string;
  revision: string;
  digest: string;
  pinned: string;
}

/** The digest of `repository` among an image's RepoDigests (`docker image inspect`). */
export function digestFor(repoDigests: readonly string[], repository: string): string | undefined {
  const normalise = (r: string) => r.replace(/^docker\.io\/(library\/)?/, '');
  const match = repoDigests.find((d) => normalise(d.split('@')[0] ?? '') === normalise(repository));
  const digest = match?.split('@')[1];
  return digest && /^sha256:[0-9a-f]{64}$/.test(digest) ? digest : undefined;
}

export interface RegistryLogin {
  user: string;
  password: string;
}

/**
 * The registry credentials from `REGISTRY_USER` and `REGISTRY_PASSWORD`: both, or neither (push
 * with the engine's own login). Only one of the two is a mistake, said before anything is pushed.
 */
export function registryLogin(
  env: Readonly<Record<string, string | undefined>>,
): RegistryLogin | undefined {
  const user = env['REGISTRY_USER'] || undefined;
  const password = env['REGISTRY_PASSWORD'] || undefined;
  if (user && password) return { user, password };
  if (user || password) {
    throw new Error(
      `REGISTRY_USER and REGISTRY_PASSWORD go together; only ${user ? 'REGISTRY_USER' : 'REGISTRY_PASSWORD'} is set`,
    );
  }
  return undefined;
}

async function main(): Promise<void> {
  const image = orExit(2, () => currentImage(process.argv[2], process.env));
  const login = orExit(2, () => registryLogin(process.env));
  if (image.dirty) {
    throw new CliError(
      `the checkout has uncommitted changes: ${image.ref} names no commit; commit, then build again`,
      2,
    );
  }
  const docker = (args: string[], input?: string) =>
    spawnSync('docker', args, {
      encoding: 'utf8',
      input,
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'inherit'],
    });

  if (login) {
    const host = registryHost(image.repository);
    const loggedIn = docker(
      ['login', ...(host ? [host] : []), '--username', login.user, '--password-stdin'],
      login.password,
    );
    if (loggedIn.status !== 0)
      throw new CliError(`docker login ${host ?? '(Docker Hub)'} failed`, 1);
  }
  const push = docker(['push', image.ref]);
  process.stdout.write(push.stdout ?? '');
  if (push.status !== 0) throw new CliError(`docker push ${image.ref} failed`, 1);

  const inspect = docker(['image', 'inspect', '--format', '{{json .RepoDigests}}', image.ref]);
  const digest =
    inspect.status === 0
      ? digestFor(JSON.parse(inspect.stdout) as string[], image.repository)
      : undefined;
  if (!digest)
    throw new CliError(`pushed ${image.ref} but found no digest for ${image.repository}`, 1);
  const record: PushRecord = {
    app: image.app,
    image: image.ref,
    revision: image.revision,
    digest,
    pinned: `${image.repository}@${digest}`,
  };
  const out = resolve('dist/images');
  await mkdir(out, { recursive: true });
  await writeFile(join(out, `${image.app}.json`), `${JSON.stringify(record, null, 2)}\n`);
  process.stdout.write(`docker-push: ${record.pinned}\n`);
}

if (isMain(import.meta.url)) runCli('docker-push', main);
