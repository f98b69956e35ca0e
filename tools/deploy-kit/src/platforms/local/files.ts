import { randomUUID } from 'node:crypto';
import { appendFile, link, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ReleaseRecord } from '../../core/ledger.ts';
import type { LockState } from '../../core/plan.ts';
import { LockHeldError, type HeldLock } from '../platform.ts';

/**
 * The ledger of one environment on this machine: a JSON-lines file per service, appended to as a
 * release goes (a crash loses nothing written); the last line of a revision is its state.
 */
export function fileLedger(dir: string) {
  const file = (service: string) => join(dir, `${service}.jsonl`);
  return {
    async history(service: string): Promise<ReleaseRecord[]> {
      let text: string;
      try {
        text = await readFile(file(service), 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw err;
      }
      const byRevision = new Map<number, ReleaseRecord>();
      for (const line of text.split('\n')) {
        if (!line.trim()) continue;
        let record: ReleaseRecord;
        try {
          record = JSON.parse(line) as ReleaseRecord;
        } catch {
          continue; // a line cut short by a crash; the one before it stands
        }
        byRevision.set(record.revision, record);
      }
      return [...byRevision.values()].sort((a, b) => a.revision - b.revision);
    },
    async record(release: ReleaseRecord): Promise<void> {
      await mkdir(dir, { recursive: true });
      await appendFile(file(release.service), `${JSON.stringify(release)}\n`, { mode: 0o600 });
    },
  };
}

interface LockFile {
  holder: string;
  pid: number;
  host: string;
  since: string;
}

/** Whether the process holding a lock file is gone. Another host's lock is never called stale. */
function isStale(lock: LockFile): boolean {
  if (lock.host !== hostname()) return false;
  try {
    process.kill(lock.pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function sameHolder(a: LockFile, b: LockFile): boolean {
  return a.pid === b.pid && a.host === b.host && a.since === b.since;
}

/**
 * Creates `target` holding `lock` only if nothing is there. The lock is written whole to a file of
 * its own and then linked to the target (a link fails when the target exists), so the target never
 * exists half-written: a reader sees a whole lock or none.
 */
async function createExclusive(target: string, lock: LockFile): Promise<boolean> {
  const draft = `${target}.${randomUUID()}.draft`;
  await writeFile(draft, JSON.stringify(lock), { mode: 0o600 });
  try {
    await link(draft, target);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await rm(draft, { force: true });
  }
}

async function readLock(file: string): Promise<LockFile | 'missing' | 'unreadable'> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as LockFile;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    if (err instanceof SyntaxError) return 'unreadable';
    throw err;
  }
}

/**
 * Removes a dead holder's lock, one process at a time: under a guard file, created the same way,
 * the lock is read again and removed only if it is still the one found stale. Without the guard,
 * a process that found it stale could remove the lock another one had just taken over. A guard
 * whose own holder died (a deploy killed in the few milliseconds it holds it) is removed too.
 */
async function removeStale(
  file: string,
  stale: LockFile | 'unreadable',
  mine: LockFile,
): Promise<void> {
  const guard = `${file}.takeover`;
  if (!(await createExclusive(guard, mine))) {
    const holder = await readLock(guard);
    if (holder === 'unreadable' || (holder !== 'missing' && isStale(holder))) {
      await rm(guard, { force: true });
    } else {
      await sleep(5); // another process is taking it over; look again after it
    }
    return;
  }
  try {
    const again = await readLock(file);
    const unchanged =
      again === 'unreadable'
        ? stale === 'unreadable'
        : again !== 'missing' && stale !== 'unreadable' && sameHolder(again, stale);
    if (unchanged) await rm(file, { force: true });
  } finally {
    await rm(guard, { force: true });
  }
}

/**
 * Release locks of one environment: a file per service, created exclusively, naming its holder's
 * pid. A lock whose process died (a SIGKILLed deploy) is stale and is taken over. The gateway's
 * release excludes every other one of the environment (a new gateway takes over the traffic
 * table), so a gateway lock and a service lock are never held together.
 */
export function fileLocks(dir: string) {
  const path = (service: string) => join(dir, `${service}.lock`);
  const read = async (service: string): Promise<LockFile | undefined> => {
    const lock = await readLock(path(service));
    return typeof lock === 'string' ? undefined : lock;
  };
  const state = (lock: LockFile): LockState => ({
    holder: lock.holder,
    since: lock.since,
    stale: isStale(lock),
  });
  const others = async (service: string): Promise<string[]> => {
    const names = (await readdir(dir).catch(() => [] as string[]))
      .filter((file) => file.endsWith('.lock'))
      .map((file) => file.slice(0, -'.lock'.length));
    return service === 'gateway'
      ? names.filter((name) => name !== 'gateway')
      : names.filter((name) => name === 'gateway');
  };

  return {
    async state(service: string): Promise<LockState | undefined> {
      const own = await read(service);
      if (own) return state(own);
      for (const other of await others(service)) {
        const lock = await read(other);
        if (lock && !isStale(lock)) return { ...state(lock), holder: `${lock.holder} (${other})` };
      }
      return undefined;
    },
    async acquire(service: string, holder: string): Promise<HeldLock> {
      await mkdir(dir, { recursive: true });
      const mine: LockFile = {
        holder,
        pid: process.pid,
        host: hostname(),
        since: new Date().toISOString(),
      };
      while (!(await createExclusive(path(service), mine))) {
        const current = await readLock(path(service));
        if (current === 'missing') continue; // released meanwhile
        if (current !== 'unreadable' && !isStale(current)) throw new LockHeldError(state(current));
        await removeStale(path(service), current, mine); // its holder died: take it over
      }
      // Both sides write their own lock first, then look at the other's: at most one goes ahead.
      for (const other of await others(service)) {
        const lock = await read(other);
        if (lock && !isStale(lock)) {
          await rm(path(service), { force: true });
          throw new LockHeldError({ ...state(lock), holder: `${lock.holder} (${other})` });
        }
      }
      return {
        release: async () => {
          const current = await read(service);
          if (current?.pid === process.pid && current.host === mine.host) {
            await rm(path(service), { force: true });
          }
        },
      };
    },
  };
}
