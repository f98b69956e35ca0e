import { existsSync } from 'node:fs';
import type { LocalServer } from './local-servers.ts';

/** True when a Docker engine is likely configured; the engine is then asked through testcontainers. */
export function dockerConfigured(): boolean {
  return Boolean(process.env['DOCKER_HOST']) || existsSync('/var/run/docker.sock');
}

/** Answers whether a Docker engine responds, within `timeoutMs`. */
export async function dockerAnswers(timeoutMs = 3000): Promise<boolean> {
  if (!dockerConfigured()) return false;
  const { getContainerRuntimeClient } = await import('testcontainers');
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([getContainerRuntimeClient().then(() => true), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * PostgreSQL in a container (testcontainers). The image is `POSTGRES_IMAGE` from the process
 * environment, which also says where the engine is (`DOCKER_HOST`), else `postgres:17-alpine`.
 */
export async function startDockerPostgres(
  image = process.env['POSTGRES_IMAGE']?.trim() || 'postgres:17-alpine',
): Promise<LocalServer> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const container = await new GenericContainer(image)
    .withEnvironment({ POSTGRES_PASSWORD: 'postgres', POSTGRES_HOST_AUTH_METHOD: 'trust' })
    .withExposedPorts(5432)
    .withTmpFs({ '/var/lib/postgresql/data': 'rw' })
    .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
    .start();
  const url = `postgres://postgres:postgres@${container.getHost()}:${container.getMappedPort(5432)}/postgres`;
  return { url, stop: async () => void (await container.stop()) };
}

/** Redis in a container (testcontainers): `REDIS_IMAGE` from the process environment, else `redis:7-alpine`. */
export async function startDockerRedis(
  image = process.env['REDIS_IMAGE']?.trim() || 'redis:7-alpine',
): Promise<LocalServer> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const container = await new GenericContainer(image)
    .withExposedPorts(6379)
    .withWaitStrategy(Wait.forLogMessage(/Ready to accept connections/))
    .start();
  const url = `redis://${container.getHost()}:${container.getMappedPort(6379)}`;
  return { url, stop: async () => void (await container.stop()) };
}
