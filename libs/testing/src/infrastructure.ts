import { dockerAnswers, startDockerPostgres, startDockerRedis } from './docker.ts';
import {
  findLocalBinaries,
  startLocalPostgres,
  startLocalRedis,
  type LocalServer,
} from './local-servers.ts';

export const INFRASTRUCTURE_SOURCES = ['env', 'docker', 'local'] as const;
export type InfrastructureSource = (typeof INFRASTRUCTURE_SOURCES)[number];

/** Where Postgres and Redis are, and how to let go of them. */
export interface Infrastructure {
  /** Admin connection URL of a PostgreSQL server (a database that exists, usually `postgres`). */
  readonly databaseUrl: string;
  readonly redisUrl: string;
  /** Where each came from: the environment, a Docker engine, or binaries on this machine. */
  readonly sources: {
    readonly postgres: InfrastructureSource;
    readonly redis: InfrastructureSource;
  };
  /** Stops what this call started; servers given through the environment are left alone. */
  stop(): Promise<void>;
}

export interface ResolveOptions {
  /**
   * Defaults to `process.env`; only DATABASE_URL, REDIS_URL and FLOTILLA_INFRA are read. The Docker
   * engine and the container images come from the process environment, as testcontainers reads
   * it: DOCKER_HOST, POSTGRES_IMAGE, REDIS_IMAGE.
   */
  env?: NodeJS.ProcessEnv;
  /** Progress messages, e.g. `console.error`. */
  log?: (message: string) => void;
}

/**
 * Finds a PostgreSQL and a Redis server, in this order:
 * 1. `DATABASE_URL` / `REDIS_URL` when set;
 * 2. a Docker engine, when one answers, through testcontainers;
 * 3. throwaway servers started from the `postgres` and `redis-server` binaries on this machine.
 * `FLOTILLA_INFRA=local|docker` forces a source. Throws with what to install when none works.
 */
export async function resolveInfrastructure(options: ResolveOptions = {}): Promise<Infrastructure> {
  const env = options.env ?? process.env;
  const log = options.log ?? (() => undefined);
  const forced = env['FLOTILLA_INFRA'];
  if (forced !== undefined && forced !== 'local' && forced !== 'docker') {
    throw new Error(`FLOTILLA_INFRA must be "local" or "docker", got "${forced}"`);
  }

  const started: LocalServer[] = [];
  const stopStarted = async () => {
    for (const server of started.reverse()) await server.stop();
  };

  const useDocker =
    forced === 'docker' || (forced === undefined && needsServer(env) && (await dockerAnswers()));
  const startPostgres = useDocker ? startDockerPostgres : startLocalPostgres;
  const startRedis = useDocker ? startDockerRedis : startLocalRedis;
  const serverSource: InfrastructureSource = useDocker ? 'docker' : 'local';

  try {
    let databaseUrl = env['DATABASE_URL'];
    let postgresSource: InfrastructureSource = 'env';
    if (!databaseUrl) {
      log(`starting PostgreSQL (${serverSource})`);
      const server = await startPostgres();
      started.push(server);
      databaseUrl = server.url;
      postgresSource = serverSource;
    }
    let redisUrl = env['REDIS_URL'];
    let redisSource: InfrastructureSource = 'env';
    if (!redisUrl) {
      log(`starting Redis (${serverSource})`);
      const server = await startRedis();
      started.push(server);
      redisUrl = server.url;
      redisSource = serverSource;
    }
    return {
      databaseUrl,
      redisUrl,
      sources: { postgres: postgresSource, redis: redisSource },
      stop: stopStarted,
    };
  } catch (err) {
    await stopStarted();
    throw new Error(`${describeMissing()}\n${(err as Error).message}`, { cause: err });
  }
}

function needsServer(env: NodeJS.ProcessEnv): boolean {
  return !env['DATABASE_URL'] || !env['REDIS_URL'];
}

function describeMissing(): string {
  const found = findLocalBinaries();
  const missing = [
    ...(found.postgres && found.initdb
      ? []
      : ['PostgreSQL server binaries (apt-get install postgresql)']),
    ...(found.redisServer ? [] : ['redis-server (apt-get install redis-server)']),
  ];
  return [
    'Could not provide PostgreSQL and Redis. Set DATABASE_URL and REDIS_URL, run a Docker engine,',
    missing.length > 0 ? `or install: ${missing.join(', ')}.` : 'or check the error below.',
  ].join(' ');
}
