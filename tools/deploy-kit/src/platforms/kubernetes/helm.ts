import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

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
