import { readFileSync, readdirSync } from 'node:fs';

/** Clock ticks per second of /proc's CPU times (USER_HZ), 100 on Linux. */
const TICKS_PER_SECOND = 100;

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** utime + stime of one process (all its threads) in seconds, from `/proc/<pid>/stat`. */
export function processCpuSeconds(stat: string | undefined): number {
  if (!stat) return 0;
  // The command name, in parentheses, may hold spaces: count fields after its closing one.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return Number.isFinite(utime + stime) ? (utime + stime) / TICKS_PER_SECOND : 0;
}

/** The process and its descendants (nginx's master and its worker, say). */
export function withDescendants(pid: number): number[] {
  const found = [pid];
  for (let i = 0; i < found.length; i++) {
    const at = found[i] as number;
    for (const task of safeList(`/proc/${at}/task`)) {
      for (const child of (read(`/proc/${at}/task/${task}/children`) ?? '').split(' ')) {
        const n = Number(child);
        if (child.trim() !== '' && Number.isInteger(n) && !found.includes(n)) found.push(n);
      }
    }
  }
  return found;
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** CPU seconds used so far by these processes and their descendants. */
export function cpuSeconds(pids: readonly number[]): number {
  return pids
    .flatMap(withDescendants)
    .reduce((sum, pid) => sum + processCpuSeconds(read(`/proc/${pid}/stat`)), 0);
}
