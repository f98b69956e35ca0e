import { execFile } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { pinned } from './cpus.ts';

const run = promisify(execFile);

/** What one wrk run measured. Latencies in milliseconds. */
export interface LoadResult {
  requests: number;
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
  /** Socket errors, timeouts and answers with a status of 400 or more. */
  errors: number;
}

export interface LoadOptions {
  url: string;
  seconds: number;
  connections: number;
  headers?: Record<string, string>;
  /** Requests a second for the whole run, paced evenly; unset: as fast as the server answers. */
  rate?: number;
  /** CPU the load generator is pinned to; unset: not pinned. */
  cpu?: number | undefined;
}

// wrk calls done() once at the end with every thread's figures merged; latencies are in µs.
const REPORT = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"micros":%d,"p50":%d,"p99":%d,"errors":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout))
end
`;

// Open-loop pacing: each request gets a slot on a fixed schedule (LuaJIT's ffi reads the
// monotonic clock), so the rate holds whatever the latency, as long as connections are free.
const PACE = `
local ffi = require('ffi')
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]
local ts = ffi.new('bench_timespec')
local function now_ms()
  ffi.C.clock_gettime(1, ts)
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end
local interval
local next_at
init = function(args) interval = 1000 / tonumber(args[1]) end
delay = function()
  local now = now_ms()
  if next_at == nil or next_at < now - 1000 then next_at = now end
  next_at = next_at + interval
  local wait = next_at - now
  if wait < 0 then return 0 end
  return math.floor(wait + 0.5)
end
`;

let scriptDir: string | undefined;
function script(paced: boolean): string {
  scriptDir ??= mkdtempSync(join(tmpdir(), 'flotilla-bench-'));
  const file = join(scriptDir, paced ? 'paced.lua' : 'report.lua');
  writeFileSync(file, (paced ? PACE : '') + REPORT);
  return file;
}
process.once('exit', () => {
  if (scriptDir) rmSync(scriptDir, { recursive: true, force: true });
});

/** Fails with what to install when wrk is not on the PATH. */
function requireWrk(): void {
  const found = (process.env['PATH'] ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, 'wrk'), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
  if (!found) throw new Error('wrk is not installed (Debian: apt-get install wrk)');
}

/**
 * Loads `url` with wrk (one thread) for `seconds` and returns what it measured. With `rate`, the
 * requests are paced to that many a second, for latency at a given load rather than at saturation.
 */
export async function load(options: LoadOptions): Promise<LoadResult> {
  requireWrk();
  const headers = Object.entries(options.headers ?? {}).flatMap(([name, value]) => [
    '-H',
    `${name}: ${value}`,
  ]);
  const args = [
    '-t1',
    `-c${options.connections}`,
    `-d${options.seconds}s`,
    '--timeout',
    '5s',
    '-s',
    script(options.rate !== undefined),
    ...headers,
    options.url,
    ...(options.rate !== undefined ? ['--', String(options.rate)] : []),
  ];
  const command = pinned('wrk', args, options.cpu);
  const { stdout } = await run(command.command, command.args, {
    timeout: (options.seconds + 30) * 1000,
    maxBuffer: 1 << 20,
  });
  return parseWrkOutput(stdout);
}

/** The figures of wrk's output, from the line the report script writes. */
export function parseWrkOutput(stdout: string): LoadResult {
  const line = /^WRK_RESULT (.+)$/m.exec(stdout)?.[1];
  if (!line) throw new Error(`wrk printed no result:\n${stdout}`);
  const raw = JSON.parse(line) as {
    requests: number;
    micros: number;
    p50: number;
    p99: number;
    errors: number;
  };
  const seconds = raw.micros / 1e6;
  return {
    requests: raw.requests,
    seconds,
    rps: seconds > 0 ? raw.requests / seconds : 0,
    p50: raw.p50 / 1000,
    p99: raw.p99 / 1000,
    errors: raw.errors,
  };
}
