import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { context, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { createLogger } from './index.ts';

type Line = Record<string, unknown>;

/** A pino destination that keeps every line it is given, parsed. */
function capture() {
  const lines: Line[] = [];
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        raw.push(line);
        lines.push(JSON.parse(line) as Line);
      }
      done();
    },
  });
  return { lines, raw, stream };
}

const spanContext = {
  traceId: '0af7651916cd43dd8448eb211c80319c',
  spanId: 'b7ad6b7169203331',
  traceFlags: TraceFlags.SAMPLED,
};

describe('createLogger', () => {
  it('writes one JSON line per call with the level name, service, message and fields', () => {
    const { lines, raw, stream } = capture();
    const logger = createLogger({ service: 'order-service', destination: stream });

    logger.info({ orderId: 'o-1' }, 'order placed');
    logger.error('payment failed');

    assert.equal(raw.length, 2);
    assert.equal(lines[0]?.['level'], 'info');
    assert.equal(lines[0]?.['service'], 'order-service');
    assert.equal(lines[0]?.['msg'], 'order placed');
    assert.equal(lines[0]?.['orderId'], 'o-1');
    assert.equal(lines[1]?.['level'], 'error');
    assert.equal(lines[1]?.['msg'], 'payment failed');
  });

  it('stamps each line with an ISO 8601 time', () => {
    const { lines, stream } = capture();
    const before = Date.now();

    createLogger({ service: 'svc', destination: stream }).info('hello');

    const time = String(lines[0]?.['time']);
    assert.match(time, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    assert.ok(Date.parse(time) >= before - 1000 && Date.parse(time) <= Date.now() + 1000);
  });

  it('drops lines below the configured level', () => {
    const { lines, stream } = capture();
    const logger = createLogger({ service: 'svc', level: 'warn', destination: stream });

    logger.info('dropped');
    logger.warn('kept');
    logger.error('kept too');

    assert.deepEqual(
      lines.map((l) => l['msg']),
      ['kept', 'kept too'],
    );
  });

  it('logs at info and above by default', () => {
    const { lines, stream } = capture();
    const logger = createLogger({ service: 'svc', destination: stream });

    logger.debug('dropped');
    logger.info('kept');

    assert.deepEqual(
      lines.map((l) => l['msg']),
      ['kept'],
    );
  });

  it('serialises an error with its message and stack', () => {
    const { lines, stream } = capture();

    createLogger({ service: 'svc', destination: stream }).error(
      { err: new Error('connection refused') },
      'query failed',
    );

    const err = lines[0]?.['err'] as { message?: string; stack?: string; type?: string };
    assert.equal(err.message, 'connection refused');
    assert.equal(err.type, 'Error');
    assert.match(err.stack ?? '', /connection refused/);
  });
});

describe('createLogger with an active span', () => {
  let contextManager: AsyncLocalStorageContextManager;

  before(() => {
    contextManager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(contextManager);
  });

  after(() => {
    context.disable();
  });

  const inSpan = <T>(fn: () => T): T =>
    context.with(trace.setSpan(context.active(), trace.wrapSpanContext(spanContext)), fn);

  it('adds trace_id and span_id of the active span', () => {
    const { lines, stream } = capture();
    const logger = createLogger({ service: 'svc', destination: stream });

    inSpan(() => logger.info('inside'));

    assert.equal(lines[0]?.['trace_id'], spanContext.traceId);
    assert.equal(lines[0]?.['span_id'], spanContext.spanId);
  });

  it('keeps the ids across awaits inside the span', async () => {
    const { lines, stream } = capture();
    const logger = createLogger({ service: 'svc', destination: stream });

    await inSpan(async () => {
      await nextTurn();
      logger.info('after an await');
    });

    assert.equal(lines[0]?.['trace_id'], spanContext.traceId);
  });

  it('leaves the ids out when no span is active', () => {
    const { lines, stream } = capture();
    const logger = createLogger({ service: 'svc', destination: stream });

    inSpan(() => undefined);
    logger.info('outside');

    assert.equal('trace_id' in (lines[0] ?? {}), false);
    assert.equal('span_id' in (lines[0] ?? {}), false);
  });
});

describe('createLogger redaction', () => {
  const secretFields = [
    'password',
    'currentPassword',
    'newPassword',
    'token',
    'accessToken',
    'refreshToken',
    'secret',
    'privateKey',
  ];

  function logOnce(fields: Record<string, unknown>) {
    const { lines, raw, stream } = capture();
    createLogger({ service: 'svc', destination: stream }).info(fields, 'event');
    return { line: lines[0] ?? {}, raw: raw[0] ?? '' };
  }

  for (const name of secretFields) {
    it(`redacts a ${name} field at the top level`, () => {
      const { line, raw } = logOnce({ [name]: 'hunter2', kept: 'visible' });

      assert.equal(line[name], '[redacted]');
      assert.equal(line['kept'], 'visible');
      assert.ok(!raw.includes('hunter2'));
    });

    it(`redacts a ${name} field one level down`, () => {
      const { line, raw } = logOnce({ body: { [name]: 'hunter2', kept: 'visible' } });

      assert.deepEqual(line['body'], { [name]: '[redacted]', kept: 'visible' });
      assert.ok(!raw.includes('hunter2'));
    });
  }

  it('redacts authorization, cookie and admin token headers of a request', () => {
    const { line, raw } = logOnce({
      req: {
        headers: {
          authorization: 'Bearer abc.def.ghi',
          cookie: 'sid=s3cr3t',
          'x-admin-token': 'adm1n',
          accept: 'application/json',
        },
      },
    });

    assert.deepEqual((line['req'] as { headers: unknown }).headers, {
      authorization: '[redacted]',
      cookie: '[redacted]',
      'x-admin-token': '[redacted]',
      accept: 'application/json',
    });
    for (const secret of ['abc.def.ghi', 's3cr3t', 'adm1n']) assert.ok(!raw.includes(secret));
  });

  it('redacts authorization and cookie in a bare headers object', () => {
    const { line } = logOnce({
      headers: { authorization: 'Basic dXNlcjpwYXNz', cookie: 'sid=1', host: 'api' },
    });

    assert.deepEqual(line['headers'], {
      authorization: '[redacted]',
      cookie: '[redacted]',
      host: 'api',
    });
  });

  it('redacts set-cookie on a response', () => {
    const { line } = logOnce({ res: { headers: { 'set-cookie': 'sid=2', etag: 'x' } } });

    assert.deepEqual((line['res'] as { headers: unknown }).headers, {
      'set-cookie': '[redacted]',
      etag: 'x',
    });
  });

  it('leaves the logged object itself untouched', () => {
    const body = { password: 'hunter2' };

    logOnce({ body });

    assert.equal(body.password, 'hunter2');
  });
});

describe('createLogger on stdout', () => {
  const script = (body: string) => `
    import { createLogger } from ${JSON.stringify(new URL('./index.ts', import.meta.url).href)};
    const logger = createLogger({ service: 'svc' });
    ${body}
  `;
  const run = (body: string) =>
    new Promise<{ lines: Line[]; firstChunk: string }>((resolve, reject) => {
      let firstChunk: string | undefined;
      let out = '';
      const child = spawn(process.execPath, ['--input-type=module', '-e', script(body)], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      child.stdout.on('data', (chunk: Buffer) => {
        firstChunk ??= chunk.toString();
        out += chunk.toString();
      });
      child.once('error', reject);
      child.once('close', () =>
        resolve({
          lines: out
            .split('\n')
            .filter(Boolean)
            .map((line) => JSON.parse(line) as Line),
          firstChunk: firstChunk ?? '',
        }),
      );
    });

  it('writes every pending line when the process exits, process.exit included', async () => {
    const { lines } = await run(
      `for (let i = 0; i < 3; i++) logger.info({ i }, 'line'); process.exit(3);`,
    );

    assert.deepEqual(
      lines.map((l) => l['i']),
      [0, 1, 2],
    );
  });

  it('writes a line within a moment even when no others follow', async () => {
    const { lines, firstChunk } = await run(
      `logger.info('alone'); await new Promise((r) => setTimeout(r, 1500)); logger.info('later');`,
    );

    assert.match(firstChunk, /"msg":"alone"/);
    assert.doesNotMatch(firstChunk, /"msg":"later"/);
    assert.deepEqual(
      lines.map((l) => l['msg']),
      ['alone', 'later'],
    );
  });
});
