import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '@flotilla/testing';
import { pinned } from './cpus.ts';

const running = new Set<ChildProcess>();
// Last resort if the benchmark dies without its teardown: no server outlives it.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export interface StartOptions {
  cwd?: string;
  env?: Record<string, string>;
  cpu?: number | undefined;
  /** File that gets the process's stdout and stderr (its logs). */
  log: string;
  /** Answers 2xx once the process is up. */
  readyUrl?: string;
}

/** A server process of the benchmark, pinned to a CPU, its output in a file. */
export class BenchProcess {
  readonly name: string;
  private readonly child: ChildProcess;
  private readonly logFile: string;

  private constructor(name: string, child: ChildProcess, logFile: string) {
    this.name = name;
    this.child = child;
    this.logFile = logFile;
  }

  static async start(
    name: string,
    command: string,
    args: string[],
    options: StartOptions,
  ): Promise<BenchProcess> {
    const out = openSync(options.log, 'a');
    const run = pinned(command, args, options.cpu);
    const child = spawn(run.command, run.args, {
      cwd: options.cwd,
      env: { PATH: process.env['PATH'] ?? '', ...options.env },
      stdio: ['ignore', out, out],
    });
    closeSync(out);
    running.add(child);
    child.once('exit', () => running.delete(child));
    const started = new BenchProcess(name, child, options.log);
    if (options.readyUrl) {
      const url = options.readyUrl;
      try {
        await waitFor(
          `${name} at ${url}`,
          async () => {
            if (child.exitCode !== null) throw new Error(`${name} exited (${child.exitCode})`);
            const res = await fetch(url);
            await res.arrayBuffer();
            if (!res.ok) throw new Error(`${url} answered ${res.status}`);
          },
          { timeoutMs: 30_000, intervalMs: 100 },
        );
      } catch (err) {
        await started.stop();
        throw new Error(`${name} did not start:\n${started.output().slice(-4000)}`, {
          cause: err,
        });
      }
    }
    return started;
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  /** What it has written so far. */
  output(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  /** SIGTERM, then SIGKILL if it is still there after 10 s. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const done = await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]);
    if (!done) {
      child.kill('SIGKILL');
      await exited;
    }
  }
}
