import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { Agent, request, type Dispatcher } from 'undici';
import { parseLoadOptions, type LoadOptions, type LoadOptionsInput } from './options.ts';
import type { LatencyMs, LiveSummary, Report, StepReport } from './report.ts';
import {
  SCENARIO_NAMES,
  SCENARIOS,
  SETUP_STEPS,
  createMixPicker,
  type Answer,
  type RequestSpec,
  type StepName,
} from './scenarios.ts';
import { createTally, summarize, type Tally } from './stats.ts';

const TICK_MS = 1000;

/** Monotonic time in milliseconds, and a sleep that ends early when its signal aborts. */
export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Real time: performance.now() and timers. */
export const systemClock: Clock = {
  now: () => performance.now(),
  sleep: (ms, signal) =>
    delay(ms, undefined, { signal }).then(
      () => undefined,
      () => undefined,
    ),
};

export interface RunDeps {
  clock?: Clock;
  /**
   * Where requests go; by default a keep-alive undici Agent with `concurrency` connections, closed
   * when the run ends. A dispatcher passed in is left open.
   */
  dispatcher?: Dispatcher;
  /** For the scenario choice; returns [0, 1) like Math.random. */
  random?: () => number;
  /** Names the users and idempotency keys of this run; random by default. */
  runId?: string;
  /** Called once the users are ready, before the first arrival. */
  onStart?: (info: { runId: string; usersReady: number; scheduled: number }) => void;
  /** Called once a second of the load phase. */
  onTick?: (summary: LiveSummary) => void;
  /** Aborting stops the arrivals; the requests in flight finish and the report is made. */
  signal?: AbortSignal;
  /** Sent with every request (the deploy kit's credential at the gateway). */
  headers?: Readonly<Record<string, string>>;
}

/** No user could register and log in: the target is wrong, down, or refusing the load user. */
export class LoadSetupError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'LoadSetupError';
  }
}

interface Exchange {
  /** The status code, or `timeout`, `connection` or `error`. */
  status: string;
  answer: Answer | undefined;
  latencyMs: number;
  error?: unknown;
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);
const TIMEOUT_CODES = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
]);

function errorKind(err: unknown): 'timeout' | 'connection' | 'error' {
  const { name, code } = (err ?? {}) as { name?: string; code?: string };
  if (name === 'TimeoutError' || (code !== undefined && TIMEOUT_CODES.has(code))) return 'timeout';
  if (code !== undefined && CONNECTION_CODES.has(code)) return 'connection';
  return 'error';
}

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

/** Microsecond precision is plenty for a report, and keeps the JSON readable. */
const round = (value: number) => Math.round(value * 1000) / 1000;
const roundOrNull = (value: number | null) => (value === null ? null : round(value));

function latencyOf(values: readonly number[]): LatencyMs {
  const { p50, p90, p99, max } = summarize(values);
  return {
    p50: roundOrNull(p50),
    p90: roundOrNull(p90),
    p99: roundOrNull(p99),
    max: roundOrNull(max),
  };
}

function stepReport(tally: Tally, step: StepName): StepReport | undefined {
  const t = tally.steps.get(step);
  if (!t) return undefined;
  return {
    count: t.count,
    succeeded: t.succeeded,
    failed: t.count - t.succeeded,
    statusCodes: Object.fromEntries(t.statusCodes),
    latencyMs: latencyOf(t.latencies),
  };
}

/**
 * Runs the purchase flow against the gateway: registers and logs in `users` users, then starts
 * iterations on a fixed schedule (`rate` a second for `duration`, open model: an arrival does not
 * wait for earlier ones), each one scenario picked by the `mix` weights, at most `concurrency` in
 * flight (further arrivals are dropped and counted). Resolves to the {@link Report} once the last
 * request finished. Throws OptionsError for invalid options and {@link LoadSetupError} when no
 * user could log in.
 */
export async function runLoad(input: LoadOptionsInput, deps: RunDeps = {}): Promise<Report> {
  const options: LoadOptions = parseLoadOptions(input);
  const clock = deps.clock ?? systemClock;
  const runId = deps.runId ?? randomUUID().slice(0, 8);
  const ownsDispatcher = deps.dispatcher === undefined;
  const dispatcher: Dispatcher =
    deps.dispatcher ??
    new Agent({
      connections: options.concurrency,
      keepAliveTimeout: 30_000,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connect: { timeout: options.timeoutMs },
    });
  const base = options.target.replace(/\/+$/, '');
  const tally = createTally();

  async function exchange(spec: RequestSpec): Promise<Exchange> {
    const started = clock.now();
    try {
      const res = await request(`${base}${spec.path}`, {
        dispatcher,
        method: spec.method,
        headers: {
          accept: 'application/json',
          ...(spec.body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...deps.headers,
          ...spec.headers,
        },
        ...(spec.body !== undefined ? { body: JSON.stringify(spec.body) } : {}),
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      const body = parseJson(await res.body.text());
      return {
        status: String(res.statusCode),
        answer: { status: res.statusCode, body },
        latencyMs: clock.now() - started,
      };
    } catch (err) {
      return {
        status: errorKind(err),
        answer: undefined,
        latencyMs: clock.now() - started,
        error: err,
      };
    }
  }

  /** Sends a request and records it; the answer when it was the expected one. */
  async function step(
    name: StepName,
    spec: RequestSpec,
    failureOf: (answer: Answer) => string | undefined,
    isLoad: boolean,
  ): Promise<{ answer?: Answer; failure?: string; error?: unknown }> {
    const ex = await exchange(spec);
    const failure = ex.answer ? failureOf(ex.answer) : ex.status;
    tally.record({ step: name, status: ex.status, failure, latencyMs: ex.latencyMs }, isLoad);
    return failure === undefined ? { answer: ex.answer } : { failure, error: ex.error };
  }

  const password = randomBytes(12).toString('base64url');

  /** Registers (or finds) user n and logs in: its access token, or why it could not. */
  async function setUpUser(
    n: number,
  ): Promise<{ token: string } | { reason: string; error?: unknown }> {
    const email = `loadgen-${runId}-${n}@example.com`;
    const registered = await step(
      'register',
      {
        method: 'POST',
        path: '/api/users',
        headers: {},
        body: { email, password, name: `Loadgen ${n}` },
      },
      // 409: the email exists (a rerun with the same run id); logging in tells whether it is ours.
      (a) => (a.status === 201 || a.status === 409 ? undefined : String(a.status)),
      false,
    );
    if (registered.failure !== undefined) {
      return { reason: `register: ${registered.failure}`, error: registered.error };
    }
    const login = await step(
      'login',
      { method: 'POST', path: '/api/auth/login', headers: {}, body: { email, password } },
      (a) => {
        if (a.status !== 200) return String(a.status);
        const token = (a.body as { accessToken?: unknown } | undefined)?.accessToken;
        return typeof token === 'string' ? undefined : '200 without accessToken';
      },
      false,
    );
    if (login.failure !== undefined)
      return { reason: `login: ${login.failure}`, error: login.error };
    return { token: (login.answer?.body as { accessToken: string }).accessToken };
  }

  try {
    const setups = await Promise.all(Array.from({ length: options.users }, (_, n) => setUpUser(n)));
    const tokens = setups.flatMap((s) => ('token' in s ? [s.token] : []));
    if (tokens.length === 0) {
      const reasons = new Map<string, number>();
      for (const s of setups)
        if ('reason' in s) reasons.set(s.reason, (reasons.get(s.reason) ?? 0) + 1);
      const summary = [...reasons].map(([reason, count]) => `${reason} x ${count}`).join(', ');
      throw new LoadSetupError(
        `no user could register and log in at ${options.target} (${summary}); ` +
          'check that the gateway runs there (npm start) and that --target points at it',
        { cause: setups.map((s) => ('reason' in s ? s.error : undefined)).find(Boolean) },
      );
    }

    const pick = createMixPicker(options.mix, deps.random);
    const intervalMs = 1000 / options.rate;
    // The small epsilon keeps 30s x 0.1/s from becoming 4 arrivals through rounding.
    const scheduled = Math.max(1, Math.ceil((options.durationMs * options.rate) / 1000 - 1e-9));
    const inFlight = new Set<Promise<unknown>>();
    let next = 0;
    let started = 0;
    let dropped = 0;
    deps.onStart?.({ runId, usersReady: tokens.length, scheduled });

    const start = clock.now();
    let nextTickAt = TICK_MS;
    let lastTick = start;
    const elapsed = () => clock.now() - start;

    const launch = (i: number) => {
      if (inFlight.size >= options.concurrency) {
        dropped++;
        return;
      }
      started++;
      const scenario = SCENARIOS[pick()];
      const token = tokens[i % tokens.length] ?? '';
      const spec = scenario.request(token, `loadgen-${runId}-${i}`);
      const done: Promise<unknown> = step(scenario.name, spec, scenario.failureOf, true).finally(
        () => inFlight.delete(done),
      );
      inFlight.add(done);
    };

    const tick = () => {
      const now = clock.now();
      if (now - start < nextTickAt) return;
      while (nextTickAt <= now - start) nextTickAt += TICK_MS;
      const window = tally.takeWindow();
      const windowSeconds = Math.max(now - lastTick, 1) / 1000;
      lastTick = now;
      const latencies = summarize(window.latencies);
      deps.onTick?.({
        elapsedMs: now - start,
        rate: window.completed / windowSeconds,
        successPercent: window.completed > 0 ? (100 * window.succeeded) / window.completed : null,
        p50Ms: latencies.p50,
        p99Ms: latencies.p99,
        inFlight: inFlight.size,
        dropped,
      });
    };

    while (next < scheduled && deps.signal?.aborted !== true) {
      // Behind schedule (a blocked event loop), every arrival that is due starts now.
      while (next < scheduled && next * intervalMs <= elapsed()) launch(next++);
      tick();
      if (next >= scheduled) break;
      const wakeAt = Math.min(next * intervalMs, nextTickAt);
      await clock.sleep(Math.max(0, wakeAt - elapsed()), deps.signal);
    }
    while (inFlight.size > 0) {
      tick();
      const settled = new AbortController();
      void Promise.allSettled(inFlight).then(() => settled.abort());
      await clock.sleep(Math.max(0, nextTickAt - elapsed()), settled.signal);
      settled.abort();
    }
    const elapsedMs = elapsed();

    const { load } = tally;
    const successPercent = load.completed > 0 ? (100 * load.succeeded) / load.completed : null;
    const steps: Report['steps'] = {};
    for (const name of [...SETUP_STEPS, ...SCENARIO_NAMES]) {
      const report = stepReport(tally, name);
      if (report) steps[name] = report;
    }
    return {
      runId,
      target: options.target,
      settings: {
        rate: options.rate,
        durationMs: options.durationMs,
        mix: options.mix,
        users: options.users,
        concurrency: options.concurrency,
        timeoutMs: options.timeoutMs,
        minSuccess: options.minSuccess,
      },
      usersReady: tokens.length,
      elapsedMs: round(elapsedMs),
      aborted: next < scheduled,
      requests: {
        scheduled,
        started,
        dropped,
        completed: load.completed,
        succeeded: load.succeeded,
        failed: load.completed - load.succeeded,
      },
      achievedRate: elapsedMs > 0 ? round(load.completed / (elapsedMs / 1000)) : 0,
      successPercent: roundOrNull(successPercent),
      passed: successPercent !== null && successPercent >= options.minSuccess,
      latencyMs: latencyOf(load.latencies),
      steps,
      statusCodes: Object.fromEntries(load.statusCodes),
      failures: Object.fromEntries(load.failures),
    };
  } finally {
    if (ownsDispatcher) await dispatcher.close();
  }
}
