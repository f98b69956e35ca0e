// Reads the three committed pipeline files back and checks that they run the description's
// commands under its conditions, with its least-privilege and one-deploy-at-a-time rules.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { JOBS, OUTPUTS, TRIGGERS } from './pipeline.ts';

const root = resolve(import.meta.dirname, '../../..');
const read = (path: string) => readFileSync(resolve(root, path), 'utf8');

interface GithubJob {
  name: string;
  if: string;
  needs?: string[];
  permissions: Record<string, string>;
  environment?: string;
  concurrency?: { group: string; 'cancel-in-progress': boolean };
  steps: { uses?: string; run?: string; env?: Record<string, string> }[];
}
const github = parse(read(OUTPUTS.github)) as {
  permissions: Record<string, string>;
  jobs: Record<string, GithubJob>;
};

interface GitlabJob {
  stage: string;
  needs: string[];
  rules: { if: string; when?: string }[];
  script: string[];
  resource_group?: string;
  environment?: { name: string };
  variables?: Record<string, string>;
}
const gitlab = parse(read(OUTPUTS.gitlab)) as Record<string, GitlabJob>;

const jenkins = read(OUTPUTS.jenkins);
/** The text of one `stage('<name>') { ... }` block of the Jenkinsfile. */
function jenkinsStage(name: string): string {
  const start = jenkins.indexOf(`stage('${name}') {`);
  assert.ok(start >= 0, `Jenkinsfile has no stage '${name}'`);
  let depth = 0;
  for (let i = jenkins.indexOf('{', start); i < jenkins.length; i++) {
    if (jenkins[i] === '{') depth++;
    if (jenkins[i] === '}' && --depth === 0) return jenkins.slice(start, i + 1);
  }
  throw new Error(`stage '${name}' is not closed`);
}

describe('the three pipelines run the same commands', () => {
  for (const job of JOBS) {
    const commands = job.commands.map((c) => c.run);

    it(`${job.id}: GitHub Actions runs ${commands.join(' && ')}`, () => {
      const runs = github.jobs[job.id]!.steps.map((s) => s.run).filter((r) => r !== undefined);
      assert.deepEqual(
        runs.filter((r) => commands.includes(r)),
        commands,
      );
    });

    it(`${job.id}: GitLab CI runs the same commands`, () => {
      const script = gitlab[job.id]!.script;
      assert.deepEqual(
        script.filter((line) => commands.includes(line)),
        commands,
      );
    });

    it(`${job.id}: Jenkins runs the same commands`, () => {
      const shells = [...jenkinsStage(job.name).matchAll(/^\s*sh '(.*)'$/gm)].map((m) => m[1]);
      assert.deepEqual(shells, commands);
    });
  }
});

describe('the three pipelines run each job under the same conditions', () => {
  const githubTriggers = (condition: string) =>
    [
      condition.includes("github.event_name == 'pull_request'") && TRIGGERS.pullRequest,
      condition.includes("github.ref == 'refs/heads/main'") && TRIGGERS.main,
      condition.includes("startsWith(github.ref, 'refs/tags/v')") && TRIGGERS.release,
    ].filter(Boolean);
  const gitlabTriggers = (rules: { if: string }[]) =>
    [
      rules.some((r) => r.if.includes('"merge_request_event"')) && TRIGGERS.pullRequest,
      rules.some((r) => r.if.includes('$CI_DEFAULT_BRANCH')) && TRIGGERS.main,
      rules.some((r) => r.if.includes('$CI_COMMIT_TAG =~ /^v/')) && TRIGGERS.release,
    ].filter(Boolean);
  const jenkinsTriggers = (stage: string) =>
    [
      stage.includes('isChangeRequest()') && TRIGGERS.pullRequest,
      stage.includes('isMain()') && TRIGGERS.main,
      stage.includes('isRelease()') && TRIGGERS.release,
    ].filter(Boolean);

  for (const job of JOBS) {
    it(`${job.id} runs on ${job.triggers.join(', ')} everywhere`, () => {
      assert.deepEqual(githubTriggers(github.jobs[job.id]!.if), job.triggers, 'GitHub');
      assert.deepEqual(gitlabTriggers(gitlab[job.id]!.rules), job.triggers, 'GitLab');
      assert.deepEqual(jenkinsTriggers(jenkinsStage(job.name)), job.triggers, 'Jenkins');
    });
  }

  it('needs the same jobs on GitHub and GitLab', () => {
    for (const job of JOBS) {
      assert.deepEqual(github.jobs[job.id]!.needs ?? [], job.needs, job.id);
      assert.deepEqual(gitlab[job.id]!.needs, job.needs, job.id);
    }
  });
});

describe('plain YAML', () => {
  it('uses no anchors or aliases, so each job reads on its own', () => {
    for (const path of [OUTPUTS.github, OUTPUTS.gitlab]) {
      assert.doesNotMatch(read(path), /:\s+[&*][\w-]+\s*$/m, path);
    }
  });
});

describe('least privilege', () => {
  it('pins every GitHub action to a full commit id', () => {
    const uses = Object.values(github.jobs).flatMap((j) => j.steps.map((s) => s.uses));
    for (const action of uses.filter((u) => u !== undefined)) {
      assert.match(action, /^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
    }
  });

  it('grants no GitHub token permission by default and read-only contents per job', () => {
    assert.deepEqual(github.permissions, {});
    for (const [id, job] of Object.entries(github.jobs)) {
      assert.equal(job.permissions['contents'], 'read', id);
      for (const [scope, level] of Object.entries(job.permissions)) {
        assert.equal(level, 'read', `${id}: ${scope}`);
      }
    }
  });

  it('gives secrets to no job that a pull request from a fork can run', () => {
    const forkGuard = 'github.event.pull_request.head.repo.full_name == github.repository';
    for (const [id, job] of Object.entries(github.jobs)) {
      const text = JSON.stringify(job.steps);
      if (!/secrets\./.test(text) || !job.if.includes("'pull_request'")) continue;
      assert.ok(job.if.includes(forkGuard), `${id} reads secrets in fork pull requests`);
    }
    for (const job of JOBS.filter((j) => j.triggers.includes(TRIGGERS.pullRequest))) {
      const stage = jenkinsStage(job.name);
      if (!stage.includes('withCredentials')) continue;
      assert.ok(stage.includes('isTrusted()'), `Jenkins ${job.id} binds credentials for forks`);
      assert.ok(
        gitlab[job.id]!.rules.every(
          (r) =>
            !r.if.includes('merge_request_event') ||
            r.if.includes('$CI_MERGE_REQUEST_SOURCE_PROJECT_ID == $CI_PROJECT_ID'),
        ),
        `GitLab ${job.id} runs for fork merge requests`,
      );
    }
  });
});

describe('deploys', () => {
  const deploys = JOBS.filter((j) => j.environment);

  it('run one at a time per environment and are never cancelled by a newer run', () => {
    for (const job of deploys) {
      const env = job.environment!;
      assert.deepEqual(
        github.jobs[job.id]!.concurrency,
        { group: `deploy-${env}`, 'cancel-in-progress': false },
        job.id,
      );
      assert.equal(gitlab[job.id]!.resource_group, `deploy-${env}`, job.id);
      assert.match(jenkinsStage(job.name), new RegExp(`lock\\('flotilla-deploy-${env}'\\)`));
    }
  });

  it('use the kubeconfig of their own environment', () => {
    for (const job of deploys) {
      assert.equal(github.jobs[job.id]!.environment, job.environment, job.id);
      assert.equal(gitlab[job.id]!.environment?.name, job.environment, job.id);
      assert.match(
        jenkinsStage(job.name),
        new RegExp(
          `file\\(credentialsId: 'kubeconfig-${job.environment!}', variable: 'KUBECONFIG'\\)`,
        ),
      );
    }
  });

  it('go to production only after a person approved, and pass who it was to the deploy kit', () => {
    const job = JOBS.find((j) => j.environment === 'production')!;
    const steps = github.jobs[job.id]!.steps.map((s) => s.run ?? '').join('\n');
    assert.match(steps, /FLOTILLA_APPROVED_BY=\$approver/);
    assert.match(steps, /ci:approved-by -- --environment production/);
    assert.deepEqual(
      gitlab[job.id]!.rules.map((r) => r.when),
      ['manual'],
    );
    assert.equal(gitlab[job.id]!.variables?.['FLOTILLA_APPROVED_BY'], '$GITLAB_USER_LOGIN');
    const stage = jenkinsStage(job.name);
    assert.match(stage, /input \{[^}]*submitterParameter 'FLOTILLA_APPROVED_BY'/s);
    assert.match(stage, /beforeInput true/);
  });
});
