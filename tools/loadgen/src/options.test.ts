import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  OptionsError,
  UsageError,
  formatDuration,
  parseCli,
  parseDuration,
  parseLoadOptions,
  parseMix,
  usage,
} from './options.ts';

function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof UsageError, `expected a UsageError, got ${String(err)}`);
    return err.problems;
  }
  assert.fail('expected a UsageError');
}

describe('parseDuration', () => {
  it('reads milliseconds, seconds, minutes, hours and combinations', () => {
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('30s'), 30_000);
    assert.equal(parseDuration('1.5s'), 1500);
    assert.equal(parseDuration('2m'), 120_000);
    assert.equal(parseDuration('1h'), 3_600_000);
    assert.equal(parseDuration('1m30s'), 90_000);
    assert.equal(parseDuration(' 10s '), 10_000);
  });

  it('refuses a number without a unit, an unknown unit and junk, saying what works', () => {
    for (const text of ['30', '30sec', '1d', '-5s', 's', '', '1m 30s', '30s!']) {
      assert.throws(() => parseDuration(text), /is not a duration; use a number with a unit/, text);
    }
  });

  it('is spelled back the way the flags take it', () => {
    assert.equal(formatDuration(30_000), '30s');
    assert.equal(formatDuration(120_000), '2m');
    assert.equal(formatDuration(1500), '1.5s');
    assert.equal(formatDuration(250), '250ms');
  });
});

describe('parseMix', () => {
  it('reads name=weight pairs', () => {
    assert.deepEqual(parseMix('visa=90,declined=10'), { visa: 90, declined: 10 });
    assert.deepEqual(parseMix(' visa = 1 , browse=0.5 ,declined=0'), {
      visa: 1,
      browse: 0.5,
      declined: 0,
    });
  });

  it('names the unknown scenario and lists the known ones', () => {
    assert.throws(
      () => parseMix('visa=90,mastercard=10'),
      /unknown scenario "mastercard"; the scenarios are visa, declined, browse/,
    );
  });

  it('refuses malformed entries, negative or non-numeric weights and repeated names', () => {
    assert.throws(() => parseMix('visa'), /"visa" in "visa" is not name=weight/);
    assert.throws(() => parseMix('visa=90,,declined=10'), /"" in .* is not name=weight/);
    assert.throws(() => parseMix('visa=-1'), /weight of "visa" must be a number >= 0/);
    assert.throws(() => parseMix('visa=lots'), /weight of "visa" must be a number >= 0/);
    assert.throws(() => parseMix('visa=1,visa=2'), /"visa" is given twice/);
  });
});

describe('parseCli', () => {
  it('reads every flag', () => {
    const command = parseCli(
      [
        '--target',
        'http://127.0.0.1:9999',
        '--rate',
        '20',
        '--duration',
        '30s',
        '--mix',
        'visa=90,declined=10',
        '--min-success',
        '99.5',
        '--users',
        '3',
        '--concurrency',
        '8',
        '--timeout=2s',
        '--json',
      ],
      {},
    );
    assert.deepEqual(command, {
      help: false,
      json: true,
      options: {
        target: 'http://127.0.0.1:9999',
        rate: 20,
        durationMs: 30_000,
        mix: { visa: 90, declined: 10 },
        minSuccess: 99.5,
        users: 3,
        concurrency: 8,
        timeoutMs: 2000,
      },
    });
  });

  it('fills in the defaults', () => {
    const command = parseCli([], {});
    assert.ok(!command.help);
    assert.deepEqual(command.options, {
      target: 'http://127.0.0.1:8080',
      rate: 10,
      durationMs: 30_000,
      mix: { visa: 80, declined: 10, browse: 10 },
      minSuccess: 99,
      users: 5,
      concurrency: 50,
      timeoutMs: 10_000,
    });
    assert.equal(command.json, false);
  });

  it('reads the LOADGEN_* variables, lets a flag win, and treats a blank variable as unset', () => {
    const command = parseCli(['--rate', '7'], {
      LOADGEN_TARGET: 'http://gateway:8080',
      LOADGEN_RATE: '100',
      LOADGEN_DURATION: '2m',
      LOADGEN_MIX: 'browse=1',
      LOADGEN_MIN_SUCCESS: '95%',
      LOADGEN_USERS: '2',
      LOADGEN_CONCURRENCY: '   ',
    });
    assert.ok(!command.help);
    assert.equal(command.options.target, 'http://gateway:8080');
    assert.equal(command.options.rate, 7);
    assert.equal(command.options.durationMs, 120_000);
    assert.deepEqual(command.options.mix, { browse: 1 });
    assert.equal(command.options.minSuccess, 95);
    assert.equal(command.options.users, 2);
    assert.equal(command.options.concurrency, 50);
  });

  it('reports every bad value at once, each naming the flag or variable it came from', () => {
    const problems = problemsOf(() =>
      parseCli(
        [
          '--rate',
          'fast',
          '--duration',
          '30',
          '--mix',
          'visa=1,amex=1',
          '--target',
          'ftp://x',
          '--users',
          '0',
        ],
        { LOADGEN_MIN_SUCCESS: '101', LOADGEN_CONCURRENCY: '2.5' },
      ),
    );
    assert.deepEqual(problems, [
      '--rate: "fast" is not a number',
      '--duration: "30" is not a duration; use a number with a unit: 500ms, 30s, 2m, 1h or 1m30s',
      '--mix: unknown scenario "amex"; the scenarios are visa, declined, browse',
      '--target: must be an http:// or https:// URL, got ftp://x',
      'LOADGEN_MIN_SUCCESS: must be within 0..100, got 101',
      '--users: must be at least 1, got 0',
      'LOADGEN_CONCURRENCY: must be a whole number, got 2.5',
    ]);
  });

  it('refuses a mix without any positive weight and a zero rate', () => {
    assert.deepEqual(
      problemsOf(() => parseCli(['--mix', 'visa=0,declined=0', '--rate', '0'], {})),
      ['--rate: must be above 0, got 0', '--mix: at least one weight must be above 0'],
    );
  });

  it('refuses an unknown flag, a flag without its value and a positional argument', () => {
    assert.deepEqual(
      problemsOf(() => parseCli(['--rps', '20'], {})),
      ['unknown flag --rps'],
    );
    assert.match(problemsOf(() => parseCli(['--rate'], {}))[0] ?? '', /--rate/);
    assert.deepEqual(
      problemsOf(() => parseCli(['20'], {})),
      ['unexpected argument "20"; every setting is a --flag'],
    );
  });

  it('answers --help without validating anything else', () => {
    assert.deepEqual(parseCli(['--help'], { LOADGEN_RATE: 'nonsense' }), { help: true });
    assert.deepEqual(parseCli(['-h'], {}), { help: true });
  });

  it('documents every flag, its variable and its default in the help text', () => {
    const text = usage();
    for (const fragment of [
      '--target <url>',
      'LOADGEN_TARGET',
      'LOADGEN_RATE',
      'LOADGEN_DURATION',
      'LOADGEN_MIX',
      'LOADGEN_MIN_SUCCESS',
      'LOADGEN_USERS',
      'LOADGEN_CONCURRENCY',
      'LOADGEN_TIMEOUT',
      '(default 30s)',
      '(default visa=80,declined=10,browse=10)',
      '--json',
      'Exit codes',
    ]) {
      assert.ok(text.includes(fragment), `help lacks ${fragment}`);
    }
  });
});

describe('parseLoadOptions', () => {
  it('fills in defaults for the programmatic API and keeps what is given', () => {
    const options = parseLoadOptions({ rate: 2, durationMs: 1000, mix: { browse: 1 } });
    assert.equal(options.rate, 2);
    assert.equal(options.durationMs, 1000);
    assert.deepEqual(options.mix, { browse: 1 });
    assert.equal(options.users, 5);
    assert.ok(Object.isFrozen(options));
  });

  it('throws OptionsError naming each bad key, unknown keys included', () => {
    assert.throws(
      () =>
        parseLoadOptions({ rate: -1, durationMs: 1.5, duration: '30s' } as Record<string, unknown>),
      (err: unknown) => {
        assert.ok(err instanceof OptionsError);
        assert.deepEqual(err.problems, [
          'rate: must be above 0',
          'durationMs: must be whole milliseconds',
          '(options): Unrecognized key: "duration"',
        ]);
        return true;
      },
    );
  });
});
