/** What an app's image is called and how `docker build` makes it. */
export interface ImageBuild {
  app: string;
  port: number;
  /** Full commit id of the sources. */
  revision: string;
  /** The working tree has changes that are not committed. */
  dirty: boolean;
  /** Image name prefix, e.g. `ghcr.io/acme` or `flotilla`. */
  registry: string;
  source: string;
  /** The Node.js base image (`NODE_IMAGE`) when not docker/Dockerfile's default, e.g. a mirror's. */
  nodeImage?: string;
}

/**
 * The image tag: the short commit id, with `-dirty` when the sources are not exactly that commit,
 * so a tag always names what is in the image and never moves.
 */
export function imageTag({ revision, dirty }: Pick<ImageBuild, 'revision' | 'dirty'>): string {
  if (!/^[0-9a-f]{40}$/.test(revision)) throw new Error(`not a commit id: ${revision}`);
  return `${revision.slice(0, 12)}${dirty ? '-dirty' : ''}`;
}

/** The full image reference, `<registry>/<app>:<tag>`. */
export function imageRef(build: ImageBuild): string {
  return `${build.registry.replace(/\/+$/, '')}/${build.app}:${imageTag(build)}`;
}

/** The `docker build` arguments for an app, run from the repository root. */
export function dockerBuildArgs(build: ImageBuild): string[] {
  const tag = imageTag(build);
  return [
    'build',
    '--file',
    'docker/Dockerfile',
    '--target',
    'runtime',
    '--build-arg',
    `APP=${build.app}`,
    '--build-arg',
    `PORT=${build.port}`,
    '--build-arg',
    `VERSION=${tag}`,
    '--build-arg',
    `REVISION=${build.revision}`,
    '--build-arg',
    `SOURCE=${build.source}`,
    ...(build.nodeImage ? ['--build-arg', `NODE_IMAGE=${build.nodeImage}`] : []),
    '--tag',
    imageRef(build),
    '.',
  ];
}

/**
 * The image name prefix from `IMAGE_REGISTRY` (default `flotilla`): a registry host and path such
 * as `ghcr.io/acme`, lower case, as Docker requires. Throws on anything else.
 */
export function imageRegistry(env: Readonly<Record<string, string | undefined>>): string {
  const value = env['IMAGE_REGISTRY']?.trim() || 'flotilla';
  if (!/^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*\/?$/.test(value)) {
    throw new Error(
      `IMAGE_REGISTRY must be a lower-case registry and path such as ghcr.io/acme, got "${value}"`,
    );
  }
  return value;
}

/** An image reference as Docker parses it: `[host[:port]/]path[:tag][@sha256:<digest>]`. */
const IMAGE_REFERENCE =
  /^([a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?\/)?[a-z0-9]+([._-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)*(:[\w][\w.-]{0,127})?(@sha256:[0-9a-f]{64})?$/;

/**
 * The Node.js base image from `NODE_IMAGE`, or undefined (docker/Dockerfile's pinned default) when
 * it is unset or blank. Throws on anything that is not an image reference.
 */
export function nodeImage(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const value = env['NODE_IMAGE']?.trim();
  if (!value) return undefined;
  if (!IMAGE_REFERENCE.test(value)) {
    throw new Error(
      `NODE_IMAGE must be an image reference such as node:24.22.3-alpine or mirror.example.com/node:24, got "${value}"`,
    );
  }
  return value;
}
