// Renders the pipeline description as a GitLab CI file.
import { Document } from 'yaml';
import {
  GENERATED_NOTICE,
  SERVICE_IMAGES,
  STAGES,
  TRIGGERS,
  serviceUrls,
  type Job,
  type Trigger,
} from './pipeline.ts';

export const NODE_IMAGE = 'node:24-bookworm';
export const DIND_IMAGE = 'docker:28-dind';

const CONDITIONS: Record<Trigger, string> = {
  [TRIGGERS.pullRequest]: '$CI_PIPELINE_SOURCE == "merge_request_event"',
  [TRIGGERS.main]: '$CI_PIPELINE_SOURCE == "push" && $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH',
  [TRIGGERS.release]: '$CI_COMMIT_TAG =~ /^v/ || $CI_PIPELINE_SOURCE == "web"',
};

/** A merge request from the project itself, not from a fork. */
const TRUSTED = '$CI_MERGE_REQUEST_SOURCE_PROJECT_ID == $CI_PROJECT_ID';

function rules(job: Job): Record<string, unknown>[] {
  return job.triggers.map((trigger) => {
    const parts = [CONDITIONS[trigger]];
    if (job.trustedOnly && trigger === TRIGGERS.pullRequest) parts.push(TRUSTED);
    if (job.onlyIf) parts.push(`$${job.onlyIf}`);
    const rule: Record<string, unknown> = {
      if:
        parts.length === 1
          ? parts[0]
          : parts.map((p) => (p.includes('||') ? `(${p})` : p)).join(' && '),
    };
    if (job.approval) rule['when'] = 'manual';
    return rule;
  });
}

function renderJob(job: Job): Record<string, unknown> {
  const script: string[] = [];
  const variables: Record<string, string> = {};
  const services: Record<string, unknown>[] = [];
  if (job.docker) {
    // The Docker CLI from Debian, talking to the docker:dind service over TLS; the runner shares
    // /certs/client between the service and the job (see the README).
    script.push(
      'apt-get update -qq && apt-get install -y -qq --no-install-recommends docker.io >/dev/null',
    );
    services.push({ name: DIND_IMAGE, alias: 'docker' });
    Object.assign(variables, {
      DOCKER_HOST: 'tcp://docker:2376',
      DOCKER_TLS_CERTDIR: '/certs',
      DOCKER_CERT_PATH: '/certs/client',
      DOCKER_TLS_VERIFY: '1',
    });
  }
  script.push('npm ci --prefer-offline --no-audit --no-fund');
  if (job.affected) {
    // Two lines so that a failure of ci:base fails the job (`export $(...)` alone would not).
    script.push('nx_shas="$(npm run --silent ci:base)"', 'export $nx_shas');
  }
  script.push(...job.commands.map((c) => c.run));

  if (job.services) {
    services.push(
      {
        name: SERVICE_IMAGES.postgres,
        alias: 'postgres',
        variables: { POSTGRES_PASSWORD: 'postgres' },
      },
      { name: SERVICE_IMAGES.redis, alias: 'redis' },
    );
    Object.assign(variables, serviceUrls({ postgres: 'postgres', redis: 'redis' }));
  }
  if (job.approval) variables['FLOTILLA_APPROVED_BY'] = '$GITLAB_USER_LOGIN';

  const cache: Record<string, unknown>[] = [
    { key: { files: ['package-lock.json'] }, paths: ['.npm/'], policy: 'pull-push' },
  ];
  if (job.nxCache) {
    cache.push({
      key: `nx-${job.id}-$CI_COMMIT_REF_SLUG`,
      fallback_keys: [`nx-${job.id}-$CI_DEFAULT_BRANCH`],
      paths: ['.nx/cache/'],
    });
  }

  const rendered: Record<string, unknown> = {
    stage: job.stage,
    needs: [...job.needs],
    rules: rules(job),
    timeout: `${job.timeoutMinutes} minutes`,
  };
  if (job.environment) {
    rendered['environment'] = {
      name: job.environment,
      deployment_tier: job.environment === 'dev' ? 'development' : job.environment,
    };
    // One deploy per environment at a time; a deploy is never cancelled by a newer pipeline.
    rendered['resource_group'] = `deploy-${job.environment}`;
    rendered['interruptible'] = false;
  }
  if (job.approval) rendered['allow_failure'] = false;
  if (services.length > 0) rendered['services'] = services;
  if (Object.keys(variables).length > 0) rendered['variables'] = variables;
  rendered['cache'] = cache;
  rendered['script'] = script;
  if (job.artifacts.length > 0) {
    rendered['artifacts'] = { when: 'always', expire_in: '30 days', paths: [...job.artifacts] };
  }
  return rendered;
}

/** The .gitlab-ci.yml text (before formatting). */
export function renderGitlab(jobs: readonly Job[]): string {
  const file: Record<string, unknown> = {
    workflow: {
      rules: [
        { if: CONDITIONS[TRIGGERS.pullRequest] },
        // A branch with an open merge request runs the merge request pipeline only.
        { if: '$CI_COMMIT_BRANCH && $CI_OPEN_MERGE_REQUESTS', when: 'never' },
        { if: '$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH' },
        { if: '$CI_COMMIT_TAG =~ /^v/' },
        { if: '$CI_PIPELINE_SOURCE == "web"' },
      ],
    },
    stages: [...STAGES],
    variables: {
      NX_NO_CLOUD: 'true',
      NX_DAEMON: 'false',
      // nx affected compares with the merge base: the whole history is needed.
      GIT_DEPTH: '0',
      npm_config_cache: '$CI_PROJECT_DIR/.npm',
    },
    default: { image: NODE_IMAGE, interruptible: true },
  };
  for (const job of jobs) file[job.id] = renderJob(job);
  const doc = new Document(file);
  doc.commentBefore = ` ${GENERATED_NOTICE}`;
  return doc.toString({ lineWidth: 0 });
}
