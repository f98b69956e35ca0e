import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import {
  freePort,
  resolveInfrastructure,
  startTestInfrastructure,
  waitFor,
  type Infrastructure,
  type TestInfrastructure,
} from '@flotilla/testing';
import {
  closeRedis,
  createLoggedRedis,
  createRedis,
  redisCheck,
  type RedisConfig,
} from '../src/index.ts';

/** ioredis' refusal when a command is sent while disconnected and nothing is queued. */
const NOT_QUEUED = /enableOfflineQueue options is false/;

let infra: TestInfrastructure;
/** A plain client without the lib's prefix, to look at keys as they are stored. */
let raw: Redis;
const clients: Redis[] = [];

before(async () => {
  infra = await startTestInfrastructure();
  raw = new Redis(infra.redisUrl);
});
after(async () => {
  // Clients of failed tests are closed here too, so nothing keeps the process alive.
  try {
    for (const client of clients) await closeRedis(client);
    await closeRedis(raw);
  } finally {
    await infra.stop();
  }
});

function open(
  overrides: Partial<RedisConfig> & { url: string },
  onError: (err: Error) => void = () => undefined,
): Redis {
  const redis = createRedis(
    { keyPrefix: infra.redisKeyPrefix, commandTimeoutMs: 200, connectTimeoutMs: 500, ...overrides },
    onError,
  );
  clients.push(redis);
  return redis;
}

/** A client of the lib once it is connected (commands are not queued before that, by design). */
async function connected(overrides: Partial<RedisConfig> = {}): Promise<Redis> {
  const redis = open({ url: infra.redisUrl, ...overrides });
  if (redis.status !== 'ready') await once(redis, 'ready');
  return redis;
}

/** A Redis URL where nothing listens. */
const unreachableUrl = async () => `redis://127.0.0.1:${await freePort()}`;

function until(what: string, condition: () => boolean): Promise<void> {
  return waitFor(
    what,
    () => (condition() ? Promise.resolve() : Promise.reject(new Error(`not yet: ${what}`))),
    { timeoutMs: 5000, intervalMs: 10 },
  );
}

describe('createRedis', () => {
  it('stores every key under the key prefix', async () => {
    const redis = await connected({ keyPrefix: `${infra.redisKeyPrefix}svc:` });

    await redis.set('greeting', 'hi');

    assert.equal(await raw.get(`${infra.redisKeyPrefix}svc:greeting`), 'hi');
    assert.equal(await raw.exists('greeting'), 0, 'nothing is stored without the prefix');
  });

  it('reads back through the same prefix', async () => {
    const redis = await connected({ keyPrefix: `${infra.redisKeyPrefix}svc:` });
    await raw.set(`${infra.redisKeyPrefix}svc:written-raw`, 'yes');

    assert.equal(await redis.get('written-raw'), 'yes');
  });

  it('rejects a command at once instead of queueing it when Redis is unreachable', async () => {
    const redis = open({ url: await unreachableUrl() });

    await assert.rejects(redis.get('anything'), NOT_QUEUED);
  });

  it('reports connection failures to onError', async () => {
    const errors: Error[] = [];
    open({ url: await unreachableUrl() }, (err) => errors.push(err));

    await until('a connection error', () => errors.length > 0);

    assert.equal((errors[0] as NodeJS.ErrnoException).code, 'ECONNREFUSED');
  });

  it('fails a command that takes longer than commandTimeoutMs', async () => {
    const redis = await connected({ commandTimeoutMs: 100 });

    // BLPOP on an empty list blocks on the server for up to 2 s.
    await assert.rejects(redis.blpop('empty-list', 2), /Command timed out/);
  });

  it('reconnects by itself after its connection is killed', async () => {
    const redis = await connected();
    const id = await redis.client('ID');
    const reconnecting = once(redis, 'reconnecting');
    const readyAgain = reconnecting.then(() => once(redis, 'ready'));

    await raw.client('KILL', 'ID', String(id));
    await readyAgain;

    assert.equal(await redis.ping(), 'PONG');
    assert.notEqual(await redis.client('ID'), id, 'a new connection');
  });
});

describe('createRedis when the server goes away', () => {
  let own: Infrastructure;
  let stopped = false;
  const stopOwn = async () => {
    if (!stopped) await own.stop();
    stopped = true;
  };
  before(async () => {
    // A Redis of this suite's own, so it can be stopped; DATABASE_URL is set only so that no
    // PostgreSQL is started (nothing here talks to it).
    own = await resolveInfrastructure({ env: { DATABASE_URL: 'postgres://127.0.0.1:1/unused' } });
  });
  after(stopOwn);

  it('rejects commands at once and its readiness check rejects', async () => {
    const errors: Error[] = [];
    const redis = open({ url: own.redisUrl }, (err) => errors.push(err));
    await once(redis, 'ready');
    const check = redisCheck(redis);

    await stopOwn();
    await until('the client to notice', () => redis.status !== 'ready');

    await assert.rejects(redis.get('anything'), NOT_QUEUED);
    await assert.rejects(check.check());
    await until('a reconnect failure reported', () => errors.length > 0);
  });
});

describe('redisCheck', () => {
  it('is a non-critical check named redis by default that answers PONG', async () => {
    const check = redisCheck(await connected());

    assert.equal(check.name, 'redis');
    assert.equal(check.critical, false);
    assert.equal(await check.check(), 'PONG');
  });

  it('is critical when asked', async () => {
    const check = redisCheck(await connected(), { critical: true });

    assert.equal(check.critical, true);
  });

  it('rejects when Redis is unreachable', async () => {
    const check = redisCheck(open({ url: await unreachableUrl() }));

    await assert.rejects(check.check());
  });
});

describe('closeRedis', () => {
  it('closes a connected client after the replies in flight arrive', async () => {
    const redis = await connected();
    const id = await redis.client('ID');
    const inFlight = redis.set('written-before-close', 'yes');

    await closeRedis(redis);

    assert.equal(await inFlight, 'OK');
    assert.equal(await raw.get(`${infra.redisKeyPrefix}written-before-close`), 'yes');
    await until('the client to end', () => redis.status === 'end');
    await waitFor('the server to drop the connection', async () => {
      assert.equal(await raw.client('LIST', 'ID', String(id)), '');
    });
  });

  it('drops a connected client whose QUIT gets no reply in time, without rejecting', async () => {
    const redis = await connected({ commandTimeoutMs: 100 });
    const id = await redis.client('ID');
    // The server answers nothing on this connection while BLPOP blocks, QUIT included.
    const blocked = redis.blpop('empty-list', 2).catch(() => undefined);

    await closeRedis(redis);

    await until('the client to end', () => redis.status === 'end');
    await waitFor('the server to drop the connection', async () => {
      assert.equal(await raw.client('LIST', 'ID', String(id)), '');
    });
    await blocked;
  });

  it('drops a client that is not connected and stops its reconnect attempts', async () => {
    const errors: Error[] = [];
    const redis = open({ url: await unreachableUrl(), maxReconnectDelayMs: 20 }, (err) =>
      errors.push(err),
    );
    await until('a first failed attempt', () => errors.length > 0);

    await closeRedis(redis);
    const attemptsAtClose = errors.length;
    // Attempts come at most 20 ms apart, so a client that kept trying would fail again here.
    await sleep(200);

    assert.equal(errors.length, attemptsAtClose, 'no attempt after close');
  });
});

describe('createLoggedRedis', () => {
  const recorder = () => {
    const lines: string[] = [];
    return {
      lines,
      log: {
        warn: (details: { err: string }, message: string) =>
          lines.push(`warn ${message}: ${details.err}`),
        info: (message: string) => lines.push(`info ${message}`),
      },
    };
  };

  it('logs a connection error once however often the reconnects fail', async () => {
    const { lines, log } = recorder();
    const redis = createLoggedRedis(
      {
        url: await unreachableUrl(),
        keyPrefix: 'x:',
        commandTimeoutMs: 100,
        connectTimeoutMs: 100,
        maxReconnectDelayMs: 20,
      },
      log,
    );
    clients.push(redis);
    let errors = 0;
    redis.on('error', () => (errors += 1));
    await until('three failed attempts', () => errors >= 3);
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0] ?? '', /^warn Redis connection error: .*ECONNREFUSED/);
  });

  it('logs nothing for a healthy connection', async () => {
    const { lines, log } = recorder();
    const redis = createLoggedRedis(
      {
        url: infra.redisUrl,
        keyPrefix: infra.redisKeyPrefix,
        commandTimeoutMs: 200,
        connectTimeoutMs: 500,
      },
      log,
    );
    clients.push(redis);
    if (redis.status !== 'ready') await once(redis, 'ready');
    assert.deepEqual(lines, []);
  });
});
