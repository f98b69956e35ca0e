import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
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
  /** Answers 2xx once the process is up. */
  readyUrl?: string;
}

/** Lines a service's request logger writes, one per request it answered. */
const REQUEST_LINE = /"msg":"request (?:completed|errored)"/g;

/**
 * A server process of the benchmark, pinned to a CPU. Its output goes to a pipe that this process
 * reads, as a container runtime reads a container's stdout: the service pays for writing its logs,
 * not for storing them.
 */
export class BenchProcess {
  readonly name: string;
  private readonly child: ChildProcess;
  private tail = '';
  private requestLines = 0;
  private carry = '';

  private constructor(name: string, child: ChildProcess) {
    this.name = name;
    this.child = child;
    const read = (chunk: Buffer) => {
      const text = this.carry + chunk.toString();
      const end = text.lastIndexOf('\n');
      this.carry = end === -1 ? text : text.slice(end + 1);
      const complete = end === -1 ? '' : text.slice(0, end);
      this.requestLines += complete.match(REQUEST_LINE)?.length ?? 0;
      this.tail = (this.tail + complete + '\n').slice(-20_000);
    };
    child.stdout?.on('data', read);
    child.stderr?.on('data', read);
  }

  static async start(
    name: string,
    command: string,
    args: string[],
    options: StartOptions,
  ): Promise<BenchProcess> {
    const run = pinned(command, args, options.cpu);
    const child = spawn(run.command, run.args, {
      cwd: options.cwd,
      env: { PATH: process.env['PATH'] ?? '', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(child);
    child.once('exit', () => running.delete(child));
    const started = new BenchProcess(name, child);
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

  /** The last of what it has written. */
  output(): string {
    return this.tail + this.carry;
  }

  /** How many request log lines it has written. */
  loggedRequests(): number {
    return this.requestLines;
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
