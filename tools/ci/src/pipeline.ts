/**
 * The one description of Flotilla's CI/CD flow. `.github/workflows/ci-cd.yml`, `.gitlab-ci.yml`
 * and `Jenkinsfile` are rendered from it (`npm run ci:generate`), so the three systems run the
 * same commands under the same conditions. Every command is an npm script or an Nx target that
 * also runs on a laptop; what a renderer adds is only the platform's glue (checkout, Node, npm ci,
 * caches, services, credentials, approval, locks).
 */

/** What starts a pipeline. */
export const TRIGGERS = {
  /** A pull/merge request against main: checks of the affected projects, images built and scanned. */
  pullRequest: 'pull-request',
  /** A push to main: the same checks, then images pushed and the affected services deployed to dev. */
  main: 'main',
  /** A tag `v*` or a manual run: the same commit to staging, then to production after approval. */
  release: 'release',
} as const;
export type Trigger = (typeof TRIGGERS)[keyof typeof TRIGGERS];

export const ENVIRONMENTS = ['dev', 'staging', 'production'] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/**
 * Settings a pipeline reads from the CI system. Names are the same on every system; how each is
 * stored (repository/environment secret, protected or file variable, Jenkins credential) is in
 * `settingsHelp` and the README.
 */
export const SETTINGS = {
  IMAGE_REGISTRY: {
    kind: 'variable',
    description: 'image name prefix, e.g. registry.example.com/acme (images and deploys)',
  },
  REGISTRY_USER: { kind: 'secret', description: 'user that may push to IMAGE_REGISTRY' },
  REGISTRY_PASSWORD: { kind: 'secret', description: 'its password or token' },
  SONAR_HOST_URL: {
    kind: 'variable',
    description: 'SonarQube server; the analysis runs only when it is set',
  },
  SONAR_TOKEN: { kind: 'secret', description: 'SonarQube token allowed to analyse the project' },
  KUBECONFIG: {
    kind: 'file',
    description: 'kubeconfig of the cluster, one per environment (dev, staging, production)',
  },
} as const;
export type Setting = keyof typeof SETTINGS;

/** One command of a job: a name shown by the CI system and the shell line it runs. */
export interface Command {
  readonly name: string;
  readonly run: string;
}

export interface Job {
  /** Job id on every system (GitHub job key, GitLab job name, Jenkins stage name is `name`). */
  readonly id: string;
  readonly name: string;
  readonly stage: Stage;
  /** The pipelines that run this job. */
  readonly triggers: readonly Trigger[];
  readonly needs: readonly string[];
  readonly timeoutMinutes: number;
  /** Computes NX_BASE/NX_HEAD (`npm run ci:base`) before the commands: the job uses `nx affected`. */
  readonly affected: boolean;
  /** Keeps Nx's local cache (`.nx/cache`) between runs with the CI system's cache. */
  readonly nxCache: boolean;
  /** PostgreSQL and Redis as the CI system's services (DATABASE_URL / REDIS_URL). */
  readonly services: boolean;
  /** Builds or runs images: needs a Docker engine. */
  readonly docker: boolean;
  /** Secrets and variables the job gets; a job that reads a secret is trustedOnly. */
  readonly settings: readonly Setting[];
  /** Runs only when the setting is configured (optional integrations such as Sonar). */
  readonly onlyIf?: Setting;
  /** Never runs for a pull request from a fork (it reads a secret). */
  readonly trustedOnly: boolean;
  /** Deploys to this environment: one deploy per environment at a time, its own kubeconfig. */
  readonly environment?: Environment;
  /** Waits for a person's approval; passed to the deploy kit as FLOTILLA_APPROVED_BY. */
  readonly approval: boolean;
  /** Files kept with the run (SBOMs, image digests, scan reports). */
  readonly artifacts: readonly string[];
  readonly commands: readonly Command[];
}

export const STAGES = ['test', 'quality', 'build', 'deploy'] as const;
export type Stage = (typeof STAGES)[number];

/** PostgreSQL and Redis images the CI systems start as services for the test job. */
export const SERVICE_IMAGES = {
  postgres: 'postgres:16-alpine',
  redis: 'redis:7-alpine',
} as const;

/** Connection strings of those services, by the host names the CI system gives them. */
export function serviceUrls(hosts: { postgres: string; redis: string }) {
  return {
    DATABASE_URL: `postgres://postgres:postgres@${hosts.postgres}:5432/postgres`,
    REDIS_URL: `redis://${hosts.redis}:6379`,
  };
}

/** Approvers of production releases on Jenkins (a user or group id of the Jenkins instance). */
export const JENKINS_APPROVERS = 'release-approvers';

const job = (
  fields: Pick<Job, 'id' | 'name' | 'stage' | 'triggers' | 'commands'> & Partial<Job>,
): Job => ({
  needs: [],
  timeoutMinutes: 30,
  affected: false,
  nxCache: false,
  services: false,
  docker: false,
  settings: [],
  trustedOnly: false,
  approval: false,
  artifacts: [],
  ...fields,
});

const { pullRequest, main, release } = TRIGGERS;

export const JOBS: readonly Job[] = [
  job({
    id: 'verify',
    name: 'Format, lint, typecheck',
    stage: 'test',
    triggers: [pullRequest, main],
    affected: true,
    nxCache: true,
    commands: [
      { name: 'Format check', run: 'npm run format:check' },
      { name: 'Lint and typecheck', run: 'npx nx affected -t lint typecheck --parallel=2' },
    ],
  }),
  job({
    id: 'test',
    name: 'Unit, integration and e2e tests',
    stage: 'test',
    triggers: [pullRequest, main],
    timeoutMinutes: 45,
    affected: true,
    nxCache: true,
    services: true,
    commands: [
      {
        name: 'Tests of the affected projects',
        run: 'npm run affected -- -t test integration e2e --parallel=2',
      },
    ],
  }),
  job({
    id: 'security',
    name: 'Dependency audit, secret scan, SBOM',
    stage: 'quality',
    triggers: [pullRequest, main],
    timeoutMinutes: 15,
    artifacts: ['dist/sbom/'],
    commands: [
      { name: 'Dependency audit', run: 'npm run audit' },
      { name: 'Secret scan', run: 'npm run secrets:scan' },
      { name: 'SBOM (CycloneDX)', run: 'npm run sbom' },
    ],
  }),
  job({
    id: 'sonar',
    name: 'SonarQube analysis',
    stage: 'quality',
    triggers: [pullRequest, main],
    settings: ['SONAR_HOST_URL', 'SONAR_TOKEN'],
    onlyIf: 'SONAR_HOST_URL',
    trustedOnly: true,
    commands: [
      { name: 'Unit test coverage (lcov)', run: 'npm run coverage' },
      { name: 'SonarQube scan', run: 'npm run sonar' },
    ],
  }),
  job({
    id: 'images',
    name: 'Build and scan images',
    stage: 'build',
    triggers: [pullRequest],
    needs: ['verify'],
    timeoutMinutes: 45,
    affected: true,
    docker: true,
    artifacts: ['dist/images/'],
    commands: [
      {
        name: 'Build and scan the affected images',
        run: 'npx nx affected -t docker-build docker-scan --parallel=1',
      },
    ],
  }),
  job({
    id: 'publish',
    name: 'Build, scan and push images',
    stage: 'build',
    triggers: [main],
    needs: ['verify', 'test', 'security'],
    timeoutMinutes: 45,
    affected: true,
    docker: true,
    settings: ['IMAGE_REGISTRY', 'REGISTRY_USER', 'REGISTRY_PASSWORD'],
    trustedOnly: true,
    artifacts: ['dist/images/'],
    commands: [
      {
        name: 'Build, scan and push the affected images',
        run: 'npx nx affected -t docker-build docker-scan docker-push --parallel=1',
      },
    ],
  }),
  job({
    id: 'deploy-dev',
    name: 'Deploy to dev',
    stage: 'deploy',
    triggers: [main],
    needs: ['publish'],
    affected: true,
    environment: 'dev',
    settings: ['IMAGE_REGISTRY', 'KUBECONFIG'],
    trustedOnly: true,
    commands: [
      { name: 'Deploy the affected services', run: 'npx nx affected -t deploy --env=dev' },
    ],
  }),
  job({
    id: 'deploy-staging',
    name: 'Deploy to staging',
    stage: 'deploy',
    triggers: [release],
    environment: 'staging',
    settings: ['IMAGE_REGISTRY', 'KUBECONFIG'],
    trustedOnly: true,
    commands: [{ name: 'Deploy every service', run: 'npx nx run-many -t deploy --env=staging' }],
  }),
  job({
    id: 'deploy-production',
    name: 'Deploy to production',
    stage: 'deploy',
    triggers: [release],
    needs: ['deploy-staging'],
    environment: 'production',
    approval: true,
    settings: ['IMAGE_REGISTRY', 'KUBECONFIG'],
    trustedOnly: true,
    commands: [{ name: 'Deploy every service', run: 'npx nx run-many -t deploy --env=production' }],
  }),
];

/** Files rendered from this description, relative to the repository root. */
export const OUTPUTS = {
  github: '.github/workflows/ci-cd.yml',
  gitlab: '.gitlab-ci.yml',
  jenkins: 'Jenkinsfile',
} as const;

export const GENERATED_NOTICE =
  'Generated from tools/ci/src/pipeline.ts by `npm run ci:generate`: edit that file, not this one.';

/** Jobs of one pipeline, in stage order. */
export function jobsOf(trigger: Trigger, jobs: readonly Job[] = JOBS): Job[] {
  return jobs
    .filter((j) => j.triggers.includes(trigger))
    .sort((a, b) => STAGES.indexOf(a.stage) - STAGES.indexOf(b.stage));
}

/**
 * Checks the description's own rules; returns every problem found. A job may only need jobs
 * that run in each of its pipelines and come before it, no secret reaches a fork's pull request,
 * and every deploy names its environment and kubeconfig.
 */
export function validatePipeline(jobs: readonly Job[] = JOBS): string[] {
  const problems: string[] = [];
  const ids = new Set<string>();
  for (const j of jobs) {
    if (ids.has(j.id)) problems.push(`${j.id}: duplicate job id`);
    ids.add(j.id);
    if (!/^[a-z][a-z0-9-]*$/.test(j.id)) problems.push(`${j.id}: job ids are kebab-case`);
    if (j.triggers.length === 0) problems.push(`${j.id}: runs in no pipeline`);
    if (j.commands.length === 0) problems.push(`${j.id}: has no command`);
    const secrets = j.settings.filter((s) => SETTINGS[s].kind !== 'variable');
    if (secrets.length > 0 && !j.trustedOnly) {
      problems.push(
        `${j.id}: reads ${secrets.join(', ')}, so it must not run for forks (trustedOnly)`,
      );
    }
    if (j.stage === 'deploy' && !j.environment) problems.push(`${j.id}: deploys to no environment`);
    if (j.environment && !j.settings.includes('KUBECONFIG')) {
      problems.push(`${j.id}: deploys without a KUBECONFIG`);
    }
    if (j.approval && j.environment !== 'production') {
      problems.push(`${j.id}: approval is for production releases`);
    }
    if (j.onlyIf && !j.settings.includes(j.onlyIf)) {
      problems.push(`${j.id}: onlyIf ${j.onlyIf} is not one of its settings`);
    }
    for (const need of j.needs) {
      const needed = jobs.find((n) => n.id === need);
      if (!needed) {
        problems.push(`${j.id}: needs unknown job ${need}`);
        continue;
      }
      if (STAGES.indexOf(needed.stage) > STAGES.indexOf(j.stage)) {
        problems.push(`${j.id}: needs ${need}, which comes in a later stage`);
      }
      const missing = j.triggers.filter((t) => !needed.triggers.includes(t));
      if (missing.length > 0) {
        problems.push(`${j.id}: needs ${need}, which does not run on ${missing.join(', ')}`);
      }
    }
  }
  for (const env of ENVIRONMENTS) {
    if (!jobs.some((j) => j.environment === env)) problems.push(`no job deploys to ${env}`);
  }
  if (!jobs.some((j) => j.environment === 'production' && j.approval)) {
    problems.push('production is deployed without approval');
  }
  return problems;
}
