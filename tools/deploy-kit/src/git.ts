import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createProjectGraphAsync, type ProjectGraph } from '@nx/devkit';
import type { Artefact } from './core/plan.ts';
import { UsageError } from './platforms/platform.ts';

const run = promisify(execFile);

/** Files of the workspace that go into every image, whichever the app. */
const SHARED_INPUTS = [
  'docker/Dockerfile',
  '.dockerignore',
  'package.json',
  'package-lock.json',
  'tsconfig.base.json',
  'tools/scripts/src/build-app.ts',
];

/** What Nx's `production` input leaves out: tests and docs change no artefact. */
const NOT_PRODUCTION = [
  ':(exclude,glob)**/*.test.ts',
  ':(exclude,glob)**/test/**',
  ':(exclude,glob)**/README.md',
  ':(exclude,glob)**/eslint.config.js',
];

/** The folders of an app and of every lib it imports, directly or not. */
export function artefactRoots(graph: ProjectGraph, app: string): string[] {
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name) || !graph.nodes[name]) return;
    seen.add(name);
    for (const dep of graph.dependencies[name] ?? []) {
      if (graph.nodes[dep.target]?.data.tags?.includes('type:lib')) visit(dep.target);
    }
  };
  visit(app);
  return [...seen].map((name) => graph.nodes[name]!.data.root).sort();
}

/**
 * The artefact version of an app: the last commit that changed what goes into its image (its
 * code, the libs it imports, the Dockerfile, the lockfile), so an unchanged app keeps its version
 * from one commit to the next; `-dirty` when those files have uncommitted changes.
 */
export async function artefactOf(app: string, cwd: string): Promise<Artefact & { commit: string }> {
  const graph = await createProjectGraphAsync({ exitOnError: false });
  if (!graph.nodes[app]) throw new UsageError(`${app} is not a project of this workspace`);
  const paths = [...artefactRoots(graph, app), ...SHARED_INPUTS, ...NOT_PRODUCTION];
  let commit: string;
  let status: string;
  try {
    commit = (
      await run('git', ['log', '-1', '--format=%H', '--', ...paths], { cwd })
    ).stdout.trim();
    status = (await run('git', ['status', '--porcelain', '--', ...paths], { cwd })).stdout.trim();
  } catch (err) {
    throw new UsageError('not in a git checkout: a release is named by the commit it deploys', {
      cause: err,
    });
  }
  if (!/^[0-9a-f]{40}$/.test(commit)) {
    throw new UsageError(`no commit has ${app}'s files yet: commit them, then deploy`);
  }
  const dirty = status.length > 0;
  return { version: `${commit.slice(0, 12)}${dirty ? '-dirty' : ''}`, dirty, commit };
}

/** `user@host`, and the CI job when there is one: who a ledger says ran a release. */
export function whoRuns(env: Readonly<Record<string, string | undefined>>, host: string): string {
  const user = env['USER'] ?? env['USERNAME'] ?? 'unknown';
  const ci =
    env['GITHUB_RUN_ID'] !== undefined
      ? ` (GitHub Actions run ${env['GITHUB_RUN_ID']})`
      : env['CI_JOB_ID'] !== undefined
        ? ` (GitLab job ${env['CI_JOB_ID']})`
        : env['BUILD_TAG'] !== undefined
          ? ` (Jenkins ${env['BUILD_TAG']})`
          : '';
  return `${user}@${host}${ci}`;
}
