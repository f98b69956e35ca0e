import { readFileSync } from 'node:fs';

/** The CPUs this process may run on, from `Cpus_allowed_list` ("0-1", "0,2-3"). */
export function allowedCpus(status = readStatus()): number[] {
  const list = /^Cpus_allowed_list:\s*(.+)$/m.exec(status)?.[1]?.trim();
  if (!list) return [];
  return list.split(',').flatMap((part) => {
    const [from, to] = part.split('-').map(Number);
    if (from === undefined || Number.isNaN(from)) return [];
    const last = to === undefined || Number.isNaN(to) ? from : to;
    return Array.from({ length: last - from + 1 }, (_, i) => from + i);
  });
}

function readStatus(): string {
  try {
    return readFileSync('/proc/self/status', 'utf8');
  } catch {
    return '';
  }
}

/**
 * Where the load generator and the servers run: on a machine with two CPUs or more, one CPU each
 * (the first and the last allowed), so they do not take time from each other; else unpinned.
 */
export function cpuPlan(cpus = allowedCpus()): { load?: number; servers?: number } {
  if (cpus.length < 2) return {};
  return { load: cpus[0], servers: cpus[cpus.length - 1] };
}

/** `command args` run through `taskset` on `cpu`, or as it is when `cpu` is unset. */
export function pinned(
  command: string,
  args: string[],
  cpu: number | undefined,
): { command: string; args: string[] } {
  return cpu === undefined
    ? { command, args }
    : { command: 'taskset', args: ['-c', String(cpu), command, ...args] };
}
