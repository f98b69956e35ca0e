// Reads a V8 CPU profile (node --cpu-prof) and prints where the time went: the functions with
// the most self time, and the share of each package (self time, and total time of calls into it).
//   node bench/src/profile-summary.ts <file.cpuprofile> [--top=25]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** `node_modules/<package>` of a script URL, `node:` for Node's own, `app` for the rest. */
export function packageOf(url: string): string {
  if (url === '') return '(native/vm)';
  if (url.startsWith('node:')) return 'node:internal';
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (match?.[1]) return match[1];
  const libs = /\/(libs|apps|bench)\/([^/]+)\//.exec(url);
  return libs ? `${libs[1]}/${libs[2]}` : url.replace(/^file:\/\//, '');
}

export interface Summary {
  /** Time the process was busy: every sample but `(idle)`. */
  totalMs: number;
  /** Self and total (with its callees) time per function, by name and place. */
  functions: { name: string; selfMs: number; totalMs: number }[];
  /** Per package: self time, and time in calls that entered it (its callees included). */
  packages: { name: string; selfMs: number; totalMs: number }[];
}

/** Self and total time per function and per package, from a profile's samples. */
export function summarize(profile: CpuProfile): Summary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id);
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const fn = new Map<string, number>();
  const fnTotal = new Map<string, number>();
  const nameOf = (node: ProfileNode) => {
    const { functionName, url, lineNumber } = node.callFrame;
    return `${functionName || '(anonymous)'} ${packageOf(url)}${url ? `:${lineNumber + 1}` : ''}`;
  };
  const pkgSelf = new Map<string, number>();
  const pkgTotal = new Map<string, number>();
  let total = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node || node.callFrame.functionName === '(idle)') continue;
    total += us;
    const name = nameOf(node);
    fn.set(name, (fn.get(name) ?? 0) + us);
    const own = packageOf(node.callFrame.url);
    pkgSelf.set(own, (pkgSelf.get(own) ?? 0) + us);
    // Every package on the stack gets the sample once for its total.
    const seen = new Set<string>();
    const seenFn = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at);
      if (!frame) break;
      const pkg = packageOf(frame.callFrame.url);
      if (!seen.has(pkg)) {
        seen.add(pkg);
        pkgTotal.set(pkg, (pkgTotal.get(pkg) ?? 0) + us);
      }
      const f = nameOf(frame);
      if (!seenFn.has(f)) {
        seenFn.add(f);
        fnTotal.set(f, (fnTotal.get(f) ?? 0) + us);
      }
    }
  }
  const ms = (us: number) => us / 1000;
  return {
    totalMs: ms(total),
    functions: [...fnTotal]
      .map(([name, us]) => ({ name, selfMs: ms(fn.get(name) ?? 0), totalMs: ms(us) }))
      .sort((a, b) => b.selfMs - a.selfMs),
    packages: [...pkgSelf.keys(), ...pkgTotal.keys()]
      .filter((name, i, all) => all.indexOf(name) === i)
      .map((name) => ({
        name,
        selfMs: ms(pkgSelf.get(name) ?? 0),
        totalMs: ms(pkgTotal.get(name) ?? 0),
      }))
      .sort((a, b) => b.totalMs - a.totalMs),
  };
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '25' } },
  });
  const file = positionals[0];
  if (!file) {
    process.stderr.write('usage: node bench/src/profile-summary.ts <file.cpuprofile> [--top=25]\n');
    process.exit(2);
  }
  const top = Number(values.top);
  const summary = summarize(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile);
  const pct = (v: number) => `${((100 * v) / summary.totalMs).toFixed(1).padStart(5)} %`;
  process.stdout.write(`${file}: ${summary.totalMs.toFixed(0)} ms busy\n\nself time by function\n`);
  for (const f of summary.functions.slice(0, top))
    process.stdout.write(`  ${pct(f.selfMs)}  ${f.name}\n`);
  process.stdout.write('\ntotal time by function (with what it calls)\n');
  const byTotal = [...summary.functions].sort((a, b) => b.totalMs - a.totalMs);
  for (const f of byTotal.slice(0, top)) process.stdout.write(`  ${pct(f.totalMs)}  ${f.name}\n`);
  process.stdout.write('\nby package: self, total (with what it calls)\n');
  for (const p of summary.packages.slice(0, top))
    process.stdout.write(`  ${pct(p.selfMs)} ${pct(p.totalMs)}  ${p.name}\n`);
}
