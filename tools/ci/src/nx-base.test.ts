import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EMPTY_TREE, githubGreenCommits, gitIn, resolveShas } from './nx-base.ts';

// A repository with main: c1 - c2 - c3 and a feature branch from c2: f1 - f2 (checked out).
let dir = '';
const sha: Record<string, string> = {};
const git = (...args: string[]) =>
  execFileSync('git', args, {
    cwd: dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
const commit = async (name: string) => {
  await writeFile(join(dir, `${name}.txt`), name);
  git('add', '.');
  git('commit', '-q', '-m', name);
  sha[name] = git('rev-parse', 'HEAD');
};

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flotilla-nx-base-'));
  git('init', '-q', '-b', 'main');
  git('config', 'user.email', 'ci@example.com');
  git('config', 'user.name', 'CI');
  await commit('c1');
  await commit('c2');
  git('checkout', '-q', '-b', 'feature');
  await commit('f1');
  await commit('f2');
  git('checkout', '-q', 'main');
  await commit('c3');
  git('checkout', '-q', 'feature');
});
after(() => rm(dir, { recursive: true, force: true }));

const noRuns = () => Promise.resolve([]);

describe('resolveShas', () => {
  it('compares a GitHub pull request with its merge base on the target branch', async () => {
    const shas = await resolveShas(
      { GITHUB_ACTIONS: 'true', GITHUB_EVENT_NAME: 'pull_request', GITHUB_BASE_REF: 'main' },
      gitIn(dir),
      noRuns,
    );
    assert.deepEqual(shas, { base: sha['c2'], head: sha['f2'], reason: 'merge base with main' });
  });

  it('compares a GitHub push with the newest successful run in its history', async () => {
    const shas = await resolveShas(
      { GITHUB_ACTIONS: 'true', GITHUB_EVENT_NAME: 'push' },
      gitIn(dir),
      () =>
        // c3 is not in the feature branch's history (as after a force push): skipped.
        Promise.resolve([sha['c3']!, sha['f1']!, sha['c1']!]),
    );
    assert.equal(shas.base, sha['f1']);
    assert.equal(shas.reason, 'last successful run of this workflow');
  });

  it('falls back to the push event before when the runs cannot be listed', async () => {
    const event = join(dir, '..', `event-${process.pid}.json`);
    await writeFile(event, JSON.stringify({ before: sha['f1'] }));
    try {
      const shas = await resolveShas(
        { GITHUB_ACTIONS: 'true', GITHUB_EVENT_NAME: 'push', GITHUB_EVENT_PATH: event },
        gitIn(dir),
        () => Promise.reject(new Error('403')),
      );
      assert.deepEqual([shas.base, shas.reason], [sha['f1'], 'previous head of the branch (push)']);
    } finally {
      await rm(event, { force: true });
    }
  });

  it('uses the merge request diff base on GitLab', async () => {
    const shas = await resolveShas(
      {
        GITLAB_CI: 'true',
        CI_MERGE_REQUEST_DIFF_BASE_SHA: sha['c2'],
        CI_COMMIT_BEFORE_SHA: sha['f1'],
      },
      gitIn(dir),
    );
    assert.equal(shas.base, sha['c2']);
  });

  it('uses the previous head of a pushed GitLab branch, and the parent for a new branch', async () => {
    const pushed = await resolveShas(
      { GITLAB_CI: 'true', CI_COMMIT_BEFORE_SHA: sha['f1'] },
      gitIn(dir),
    );
    assert.equal(pushed.base, sha['f1']);
    const created = await resolveShas(
      { GITLAB_CI: 'true', CI_COMMIT_BEFORE_SHA: '0'.repeat(40) },
      gitIn(dir),
    );
    assert.deepEqual([created.base, created.reason], [sha['f1'], 'parent commit']);
  });

  it("uses a Jenkins change request's target, else the last successful build", async () => {
    const change = await resolveShas(
      { JENKINS_URL: 'http://jenkins', CHANGE_ID: '7', CHANGE_TARGET: 'main' },
      gitIn(dir),
    );
    assert.equal(change.base, sha['c2']);
    const branch = await resolveShas(
      { JENKINS_URL: 'http://jenkins', GIT_PREVIOUS_SUCCESSFUL_COMMIT: sha['c1'] },
      gitIn(dir),
    );
    assert.deepEqual([branch.base, branch.reason], [sha['c1'], 'last successful build']);
  });

  it('compares a local checkout with main', async () => {
    const shas = await resolveShas({}, gitIn(dir));
    assert.equal(shas.base, sha['c2']);
  });

  it('treats everything as changed in a repository with one commit', async () => {
    const single = await mkdtemp(join(tmpdir(), 'flotilla-nx-base-one-'));
    try {
      const run = (...args: string[]) =>
        execFileSync('git', args, { cwd: single, stdio: 'ignore' });
      run('init', '-q', '-b', 'trunk');
      run(
        '-c',
        'user.email=ci@example.com',
        '-c',
        'user.name=CI',
        'commit',
        '-q',
        '--allow-empty',
        '-m',
        'one',
      );
      const shas = await resolveShas({ GITLAB_CI: 'true' }, gitIn(single));
      assert.equal(shas.base, EMPTY_TREE);
    } finally {
      await rm(single, { recursive: true, force: true });
    }
  });
});

describe('githubGreenCommits', () => {
  it("asks GitHub's API for this workflow's successful runs on the branch", async () => {
    let seen: { url?: string; auth?: string } = {};
    const server = createServer((req, res) => {
      seen = { url: req.url, auth: req.headers.authorization };
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          workflow_runs: [{ head_sha: 'a'.repeat(40) }, { head_sha: 'b'.repeat(40) }],
        }),
      );
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    try {
      const { port } = server.address() as AddressInfo;
      const commits = await githubGreenCommits({
        GITHUB_API_URL: `http://127.0.0.1:${port}`,
        GITHUB_REPOSITORY: 'acme/flotilla',
        GITHUB_WORKFLOW_REF: 'acme/flotilla/.github/workflows/ci-cd.yml@refs/heads/main',
        GITHUB_REF_NAME: 'main',
        GITHUB_TOKEN: 't0ken',
      });
      assert.deepEqual(commits, ['a'.repeat(40), 'b'.repeat(40)]);
      assert.equal(
        seen.url,
        '/repos/acme/flotilla/actions/workflows/ci-cd.yml/runs?branch=main&status=success&per_page=20',
      );
      assert.equal(seen.auth, 'Bearer t0ken');
    } finally {
      server.close();
    }
  });
});
