// Prints NX_BASE and NX_HEAD for `nx affected`, found the way each CI system allows:
//   node tools/ci/src/nx-base.ts            (npm run --silent ci:base)
//   NX_BASE=<sha>
//   NX_HEAD=<sha>
// A pull/merge request compares with its target branch; main compares with the last commit
// whose pipeline passed (so a failed run's changes are checked and deployed again next time).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { isMain } from './cli.ts';

type Env = Readonly<Record<string, string | undefined>>;

/** The git questions the resolver asks, so that tests can run it in a throwaway repository. */
export interface Git {
  /** Full commit id of a revision, or undefined when there is none. */
  commit(rev: string): string | undefined;
  /** `ancestor` is reachable from `descendant` (or is the same commit). */
  isAncestor(ancestor: string, descendant: string): boolean;
  mergeBase(a: string, b: string): string | undefined;
  /** Fetches a branch of origin into refs/remotes/origin/<branch>; false when it cannot. */
  fetchBranch(branch: string): boolean;
}

export interface Shas {
  base: string;
  head: string;
  /** Where the base came from, for the log. */
  reason: string;
}

/** The empty tree: the base of a first commit, so that everything counts as changed. */
export const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';
const NULL_SHA = /^0{40}$/;

export function gitIn(cwd: string): Git {
  const run = (...args: string[]) =>
    execFileSync('git', args, {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  const attempt = (...args: string[]) => {
    try {
      return run(...args);
    } catch {
      return undefined;
    }
  };
  return {
    commit: (rev) => attempt('rev-parse', '--verify', '--quiet', `${rev}^{commit}`),
    isAncestor: (a, d) => attempt('merge-base', '--is-ancestor', a, d) !== undefined,
    mergeBase: (a, b) => attempt('merge-base', a, b),
    fetchBranch: (branch) =>
      attempt(
        'fetch',
        '--no-tags',
        'origin',
        `+refs/heads/${branch}:refs/remotes/origin/${branch}`,
      ) !== undefined,
  };
}

/** Head commits of the last successful runs of this workflow on this branch, newest first. */
export async function githubGreenCommits(env: Env): Promise<string[]> {
  const api = env['GITHUB_API_URL'] ?? 'https://api.github.com';
  const repo = env['GITHUB_REPOSITORY'];
  // owner/repo/.github/workflows/ci-cd.yml@refs/heads/main -> ci-cd.yml
  const workflow = env['GITHUB_WORKFLOW_REF']?.split('@')[0]?.split('/').pop();
  const branch = env['GITHUB_REF_NAME'];
  if (!repo || !workflow || !branch) return [];
  const url = `${api}/repos/${repo}/actions/workflows/${encodeURIComponent(workflow)}/runs?branch=${encodeURIComponent(branch)}&status=success&per_page=20`;
  const response = await fetch(url, {
    headers: {
      accept: 'application/vnd.github+json',
      ...(env['GITHUB_TOKEN'] ? { authorization: `Bearer ${env['GITHUB_TOKEN']}` } : {}),
    },
    signal: AbortSignal.timeout(10_000),
  });
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  const body = (await response.json()) as { workflow_runs?: { head_sha?: unknown }[] };
  return (body.workflow_runs ?? [])
    .map((r) => r.head_sha)
    .filter((sha): sha is string => typeof sha === 'string');
}

/** `before` of a GitHub push event: the branch's previous head. */
function githubBefore(env: Env): string | undefined {
  const path = env['GITHUB_EVENT_PATH'];
  if (!path) return undefined;
  try {
    const event = JSON.parse(readFileSync(path, 'utf8')) as { before?: unknown };
    return typeof event.before === 'string' ? event.before : undefined;
  } catch {
    return undefined;
  }
}

interface Candidate {
  sha: string | undefined;
  reason: string;
}

/**
 * Chooses the base: the first candidate that is a commit in this clone and an ancestor of HEAD
 * (a force push can leave a recorded commit outside the history); then HEAD~1; then the empty tree.
 */
export async function resolveShas(
  env: Env,
  git: Git,
  greenCommits: (env: Env) => Promise<string[]> = githubGreenCommits,
  log: (message: string) => void = () => {},
): Promise<Shas> {
  const head = git.commit('HEAD');
  if (!head) throw new Error('not in a git checkout with a commit');
  const candidates: Candidate[] = [];
  const targetBranch = (branch: string, reason: string) => {
    if (!git.commit(`refs/remotes/origin/${branch}`)) git.fetchBranch(branch);
    const ref = git.commit(`refs/remotes/origin/${branch}`) ?? git.commit(branch);
    candidates.push({ sha: ref && git.mergeBase(ref, head), reason });
  };

  if (env['GITHUB_ACTIONS'] === 'true') {
    if (env['GITHUB_EVENT_NAME'] === 'pull_request' && env['GITHUB_BASE_REF']) {
      targetBranch(env['GITHUB_BASE_REF'], `merge base with ${env['GITHUB_BASE_REF']}`);
    } else {
      try {
        for (const sha of await greenCommits(env)) {
          candidates.push({ sha, reason: 'last successful run of this workflow' });
        }
      } catch (err) {
        log(`could not list successful runs (${(err as Error).message}); using the push's before`);
      }
      candidates.push({ sha: githubBefore(env), reason: 'previous head of the branch (push)' });
    }
  } else if (env['GITLAB_CI'] === 'true') {
    candidates.push(
      { sha: env['CI_MERGE_REQUEST_DIFF_BASE_SHA'], reason: 'merge request diff base' },
      { sha: env['CI_COMMIT_BEFORE_SHA'], reason: 'previous head of the branch (push)' },
    );
  } else if (env['JENKINS_URL']) {
    if (env['CHANGE_ID'] && env['CHANGE_TARGET']) {
      targetBranch(env['CHANGE_TARGET'], `merge base with ${env['CHANGE_TARGET']}`);
    }
    candidates.push({
      sha: env['GIT_PREVIOUS_SUCCESSFUL_COMMIT'],
      reason: 'last successful build',
    });
  } else {
    targetBranch('main', 'merge base with main');
  }

  for (const { sha, reason } of candidates) {
    if (!sha || NULL_SHA.test(sha)) continue;
    const commit = git.commit(sha);
    if (commit && git.isAncestor(commit, head)) return { base: commit, head, reason };
    log(`skipping ${sha} (${reason}): not in the history of HEAD`);
  }
  const parent = git.commit('HEAD~1');
  if (parent) return { base: parent, head, reason: 'parent commit' };
  return { base: EMPTY_TREE, head, reason: 'first commit: everything is affected' };
}

if (isMain(import.meta.url)) {
  const log = (message: string) => process.stderr.write(`ci:base: ${message}\n`);
  try {
    const shas = await resolveShas(process.env, gitIn(process.cwd()), githubGreenCommits, log);
    log(`base ${shas.base} (${shas.reason}), head ${shas.head}`);
    process.stdout.write(`NX_BASE=${shas.base}\nNX_HEAD=${shas.head}\n`);
  } catch (err) {
    log((err as Error).message);
    process.exit(1);
  }
}
