import { parseArgs } from 'node:util';
import { z } from 'zod';
import { SCENARIO_NAMES, formatMix, type Mix } from './scenarios.ts';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** The settings of a run, with their defaults and limits. Durations are in milliseconds. */
export const loadOptionsSchema = z.strictObject({
  target: z
    .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
    .default('http://127.0.0.1:8080')
    .describe('base URL of the gateway'),
  rate: z
    .number({ error: 'must be a number' })
    .positive({ error: 'must be above 0' })
    .max(10_000, { error: 'must be at most 10000' })
    .default(10)
    .describe('iterations started per second, whatever the latency'),
  durationMs: z
    .number({ error: 'must be a duration' })
    .int({ error: 'must be whole milliseconds' })
    .positive({ error: 'must be above 0' })
    .max(24 * HOUR, { error: 'must be at most 24h' })
    .default(30 * SECOND)
    .describe('how long iterations are started'),
  mix: z
    .partialRecord(
      z.enum(SCENARIO_NAMES, { error: `scenarios are ${SCENARIO_NAMES.join(', ')}` }),
      z.number({ error: 'weights must be numbers' }).min(0, { error: 'weights must be >= 0' }),
    )
    .refine((mix) => Object.values(mix).some((weight) => weight > 0), {
      error: 'at least one weight must be above 0',
    })
    .default({ visa: 80, declined: 10, browse: 10 })
    .describe('relative weights of the scenarios'),
  minSuccess: z
    .number({ error: 'must be a number' })
    .min(0, { error: 'must be within 0..100' })
    .max(100, { error: 'must be within 0..100' })
    .default(99)
    .describe('success percentage under which the run fails'),
  users: z
    .number({ error: 'must be a number' })
    .int({ error: 'must be a whole number' })
    .min(1, { error: 'must be at least 1' })
    .max(1000, { error: 'must be at most 1000' })
    .default(5)
    .describe('users registered and logged in before the load starts'),
  concurrency: z
    .number({ error: 'must be a number' })
    .int({ error: 'must be a whole number' })
    .min(1, { error: 'must be at least 1' })
    .max(10_000, { error: 'must be at most 10000' })
    .default(50)
    .describe('requests in flight at most; arrivals beyond it are dropped and counted'),
  timeoutMs: z
    .number({ error: 'must be a duration' })
    .int({ error: 'must be whole milliseconds' })
    .positive({ error: 'must be above 0' })
    .max(10 * MINUTE, { error: 'must be at most 10m' })
    .default(10 * SECOND)
    .describe('limit of one request, from sending to the whole answer'),
});

/** Settings of {@link runLoad}; every key is optional and has a default. */
export type LoadOptionsInput = z.input<typeof loadOptionsSchema>;
export type LoadOptions = Readonly<z.output<typeof loadOptionsSchema>>;
type OptionKey = keyof LoadOptions;

/** Thrown when settings passed to the programmatic API are invalid; lists every problem. */
export class OptionsError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`invalid load options:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'OptionsError';
    this.problems = problems;
  }
}

/** Validates settings and fills in the defaults. Throws {@link OptionsError} with every problem. */
export function parseLoadOptions(input: LoadOptionsInput = {}): LoadOptions {
  const result = loadOptionsSchema.safeParse(input);
  if (result.success) return Object.freeze(result.data);
  throw new OptionsError(
    result.error.issues.map((issue) => `${issue.path.join('.') || '(options)'}: ${issue.message}`),
  );
}

const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: SECOND, m: MINUTE, h: HOUR };

/** `500ms`, `30s`, `2m`, `1h`, `1m30s` -> milliseconds. Throws a RangeError that says what is accepted. */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  if (!DURATION.test(trimmed)) {
    throw new RangeError(
      `"${text}" is not a duration; use a number with a unit: 500ms, 30s, 2m, 1h or 1m30s`,
    );
  }
  let ms = 0;
  for (const [, amount, unit] of trimmed.matchAll(DURATION_PART)) {
    ms += Number(amount) * (UNIT_MS[unit ?? ''] ?? Number.NaN);
  }
  return Math.round(ms);
}

/** `1.5s` for 1500, `2m` for 120000: the shortest way the flags spell a duration. */
export function formatDuration(ms: number): string {
  if (ms % MINUTE === 0) return `${ms / MINUTE}m`;
  if (ms >= SECOND) return `${ms / SECOND}s`;
  return `${ms}ms`;
}

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$/;

/** A decimal number; `%` allowed after it when `percent` is set. */
function parseNumber(text: string, percent = false): number {
  const trimmed = text.trim();
  const digits = percent && trimmed.endsWith('%') ? trimmed.slice(0, -1) : trimmed;
  if (!NUMBER.test(digits)) throw new RangeError(`"${text}" is not a number`);
  return Number(digits);
}

/**
 * `visa=90,declined=10` -> `{ visa: 90, declined: 10 }`. Names are the scenarios, weights are
 * non-negative numbers, each name at most once.
 */
export function parseMix(text: string): Mix {
  const mix: Mix = {};
  const known = SCENARIO_NAMES.join(', ');
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    const match = /^([a-z]+)\s*=\s*(.+)$/i.exec(entry);
    if (!match) {
      throw new RangeError(
        `"${entry}" in "${text}" is not name=weight; write it like visa=90,declined=10`,
      );
    }
    const [, name = '', weightText = ''] = match;
    const scenario = SCENARIO_NAMES.find((known) => known === name.toLowerCase());
    if (!scenario) throw new RangeError(`unknown scenario "${name}"; the scenarios are ${known}`);
    if (mix[scenario] !== undefined) throw new RangeError(`"${scenario}" is given twice`);
    const weight = Number(weightText.trim());
    if (!NUMBER.test(weightText.trim()) || weight < 0) {
      throw new RangeError(
        `the weight of "${scenario}" must be a number >= 0, got "${weightText}"`,
      );
    }
    mix[scenario] = weight;
  }
  return mix;
}

type Kind = 'url' | 'number' | 'percent' | 'duration' | 'mix';

/** The command line and environment spelling of each setting; drives parsing and --help alike. */
export const FLAGS: readonly {
  key: OptionKey;
  flag: string;
  env: string;
  value: string;
  kind: Kind;
}[] = [
  { key: 'target', flag: 'target', env: 'LOADGEN_TARGET', value: '<url>', kind: 'url' },
  { key: 'rate', flag: 'rate', env: 'LOADGEN_RATE', value: '<per-second>', kind: 'number' },
  {
    key: 'durationMs',
    flag: 'duration',
    env: 'LOADGEN_DURATION',
    value: '<duration>',
    kind: 'duration',
  },
  { key: 'mix', flag: 'mix', env: 'LOADGEN_MIX', value: '<name=weight,...>', kind: 'mix' },
  {
    key: 'minSuccess',
    flag: 'min-success',
    env: 'LOADGEN_MIN_SUCCESS',
    value: '<percent>',
    kind: 'percent',
  },
  { key: 'users', flag: 'users', env: 'LOADGEN_USERS', value: '<n>', kind: 'number' },
  {
    key: 'concurrency',
    flag: 'concurrency',
    env: 'LOADGEN_CONCURRENCY',
    value: '<n>',
    kind: 'number',
  },
  {
    key: 'timeoutMs',
    flag: 'timeout',
    env: 'LOADGEN_TIMEOUT',
    value: '<duration>',
    kind: 'duration',
  },
];

function convert(kind: Kind, text: string): unknown {
  switch (kind) {
    case 'url':
      return text.trim();
    case 'number':
      return parseNumber(text);
    case 'percent':
      return parseNumber(text, true);
    case 'duration':
      return parseDuration(text);
    case 'mix':
      return parseMix(text);
  }
}

function defaultText(key: OptionKey): string {
  const value: unknown = loadOptionsSchema.shape[key].parse(undefined);
  if (typeof value === 'number') return key.endsWith('Ms') ? formatDuration(value) : String(value);
  if (typeof value === 'string') return value;
  return formatMix(value as Mix);
}

/** The --help text. */
export function usage(): string {
  const rows = FLAGS.map((f) => {
    const description = loadOptionsSchema.shape[f.key].description ?? '';
    return [`--${f.flag} ${f.value}`, f.env, `${description} (default ${defaultText(f.key)})`];
  });
  rows.push(['--json', '', 'print the final report as one JSON line on stdout']);
  rows.push(['-h, --help', '', 'show this help']);
  const width0 = Math.max(...rows.map((r) => (r[0] ?? '').length));
  const width1 = Math.max(...rows.map((r) => (r[1] ?? '').length));
  return [
    'Usage: node tools/loadgen/src/main.ts [flags]',
    '',
    'Runs the purchase flow against the gateway at a fixed arrival rate, prints a live line each',
    'second and a final report.',
    '',
    'Flags (each also read from the environment variable shown; a flag wins over the variable):',
    ...rows.map(([a = '', b = '', c = '']) => `  ${a.padEnd(width0)}  ${b.padEnd(width1)}  ${c}`),
    '',
    `Scenarios: ${SCENARIO_NAMES.join(', ')}. Durations: 500ms, 30s, 2m, 1h, 1m30s.`,
    'Exit codes: 0 success rate at or above --min-success; 1 below it, or the setup failed;',
    '2 invalid flags or environment variables.',
    '',
  ].join('\n');
}

/** Invalid command line or LOADGEN_* variables: every problem, each naming the flag or variable. */
export class UsageError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(problems.join('\n'));
    this.name = 'UsageError';
    this.problems = problems;
  }
}

export type CliCommand =
  | { readonly help: true }
  | { readonly help: false; readonly json: boolean; readonly options: LoadOptions };

function parseArgsError(err: unknown): string {
  const { code, message } = err as { code?: string; message?: string };
  const quoted = /'([^']+)'/.exec(message ?? '')?.[1];
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown flag ${quoted ?? message}`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument "${quoted ?? message}"; every setting is a --flag`;
    default:
      return message ?? String(err);
  }
}

/**
 * Reads the command line (without `node` and the script) and the LOADGEN_* variables; a flag wins
 * over its variable and a blank variable counts as unset. Throws {@link UsageError} listing every
 * invalid flag or variable at once.
 */
export function parseCli(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): CliCommand {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        ...Object.fromEntries(FLAGS.map((f) => [f.flag, { type: 'string' as const }])),
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (err) {
    throw new UsageError([parseArgsError(err)]);
  }
  if (values.help === true) return { help: true };

  const problems: string[] = [];
  const input: Record<string, unknown> = {};
  const labels = new Map<string, string>();
  for (const f of FLAGS) {
    const flagValue = values[f.flag];
    const envValue = env[f.env];
    let text: string;
    if (typeof flagValue === 'string') {
      text = flagValue;
      labels.set(f.key, `--${f.flag}`);
    } else if (envValue !== undefined && envValue.trim() !== '') {
      text = envValue;
      labels.set(f.key, f.env);
    } else {
      continue;
    }
    try {
      input[f.key] = convert(f.kind, text);
    } catch (err) {
      problems.push(`${labels.get(f.key)}: ${(err as Error).message}`);
    }
  }
  const result = loadOptionsSchema.safeParse(input);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const [key] = issue.path;
      const label = typeof key === 'string' ? (labels.get(key) ?? key) : '(options)';
      const given = typeof key === 'string' && key !== 'mix' ? `, got ${String(input[key])}` : '';
      problems.push(`${label}: ${issue.message}${given}`);
    }
  }
  if (problems.length > 0 || !result.success) throw new UsageError(problems);
  return { help: false, json: values.json === true, options: Object.freeze(result.data) };
}
