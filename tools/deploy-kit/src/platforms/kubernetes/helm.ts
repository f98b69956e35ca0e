import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';

const run = promisify(execFile);

/** Runs helm and resolves with its stdout; rejects with its stderr in the message. */
export async function helm(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  try {
    const { stdout } = await run('helm', args, {
      env,
      maxBuffer: 16 * 1024 * 1024,
      timeout: 15 * 60_000,
    });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string; code?: string };
    if (e.code === 'ENOENT')
      throw new Error('helm is not installed (see the README: .ci/run builds it with go install)');
    throw new Error(
      `helm ${args.slice(0, 2).join(' ')} failed: ${(e.stderr ?? e.message).trim()}`,
      { cause: err },
    );
  }
}

/** The revisions of a Helm release, newest last; empty when it was never installed. */
export async function helmHistory(
  release: string,
  namespace: string,
  context: string,
): Promise<{ revision: number; status: string; app_version?: string; description?: string }[]> {
  try {
    return JSON.parse(
      await helm([
        'history',
        release,
        '-n',
        namespace,
        '--kube-context',
        context,
        '-o',
        'json',
        '--max',
        '20',
      ]),
    ) as {
      revision: number;
      status: string;
    }[];
  } catch (err) {
    if (/not found/.test((err as Error).message)) return [];
    throw err;
  }
}

/** What `helm dependency update` writes into a chart's folder. */
const PACKED = new Set(['charts', 'Chart.lock']);

/**
 * A copy of the chart `<helmDir>/<chart>` with its `file://` dependencies packed into its
 * `charts/`, in a temporary folder that `done` removes. The working tree is left as it is, and two
 * deploys at once never pack into the same folder. Dependencies are copied beside the chart as
 * they lie beside it in `helmDir`; one outside `helmDir` is refused.
 */
export async function packChart(
  helmDir: string,
  chart: string,
): Promise<{ dir: string; done: () => Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), 'flotilla-chart-'));
  const done = () => rm(root, { recursive: true, force: true });
  try {
    const source = join(helmDir, chart);
    const copy = (from: string) => {
      const to = relative(helmDir, from);
      if (to === '' || to.startsWith('..') || isAbsolute(to))
        throw new Error(`${chart} depends on ${from}, outside ${helmDir}`);
      return cp(from, join(root, to), {
        recursive: true,
        filter: (path) => !PACKED.has(relative(from, path)),
      });
    };
    await copy(source);
    const manifest = parse(await readFile(join(source, 'Chart.yaml'), 'utf8')) as {
      dependencies?: { repository?: string }[];
    };
    for (const { repository } of manifest.dependencies ?? []) {
      if (repository?.startsWith('file://')) await copy(resolve(source, repository.slice(7)));
    }
    const dir = join(root, chart);
    await helm(['dependency', 'update', '--skip-refresh', dir]);
    return { dir, done };
  } catch (err) {
    await done();
    throw err;
  }
}
