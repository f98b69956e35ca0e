import { execFileSync } from 'node:child_process';
import { imageRef, imageRegistry, imageTag } from '@flotilla/scripts/image';
import { SERVICES } from '@flotilla/scripts/services';

type Env = Readonly<Record<string, string | undefined>>;

export interface CurrentImage {
  app: string;
  /** `<registry>/<app>:<tag>`, the reference `nx docker-build` tags. */
  ref: string;
  /** `<registry>/<app>`. */
  repository: string;
  tag: string;
  revision: string;
  dirty: boolean;
}

/** The image `npx nx docker-build <app>` makes from this checkout. Throws on a bad app or registry. */
export function currentImage(app: string | undefined, env: Env, cwd = process.cwd()): CurrentImage {
  const service = SERVICES.find((s) => s.name === app);
  if (!service) {
    throw new Error(
      `unknown app "${app ?? ''}"; one of: ${SERVICES.map((s) => s.name).join(', ')}`,
    );
  }
  const registry = imageRegistry(env);
  const git = (...args: string[]) =>
    execFileSync('git', args, {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  const revision = git('rev-parse', 'HEAD');
  const dirty = git('status', '--porcelain').length > 0;
  const build = { app: service.name, port: service.port, revision, dirty, registry, source: '' };
  return {
    app: service.name,
    ref: imageRef(build),
    repository: `${registry.replace(/\/+$/, '')}/${service.name}`,
    tag: imageTag(build),
    revision,
    dirty,
  };
}

/**
 * The registry host `docker login` needs for an image repository: its first path segment when it
 * names a host (has a dot or a port, or is localhost), as Docker decides; undefined for Docker Hub.
 */
export function registryHost(repository: string): string | undefined {
  const first = repository.split('/')[0] ?? '';
  if (!repository.includes('/')) return undefined;
  return first.includes('.') || first.includes(':') || first === 'localhost' ? first : undefined;
}
