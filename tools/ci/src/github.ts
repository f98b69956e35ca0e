// Renders the pipeline description as one GitHub Actions workflow.
import { Document, visit } from 'yaml';
import {
  GENERATED_NOTICE,
  SERVICE_IMAGES,
  TRIGGERS,
  type Job,
  type Setting,
  type Trigger,
  SETTINGS,
  serviceUrls,
} from './pipeline.ts';

/**
 * Actions used, pinned to a full commit id (a tag can be moved; a commit cannot). The comment
 * after each pin in the workflow says which release it is.
 */
export const ACTIONS = {
  checkout: {
    repo: 'actions/checkout',
    sha: '11bd71901bbe5b1630ceea73d27597364c9af683',
    version: 'v4.2.2',
  },
  setupNode: {
    repo: 'actions/setup-node',
    sha: '39370e3970a6d050c480ffad4ff0ed4d3fdee5af',
    version: 'v4.1.0',
  },
  cache: {
    repo: 'actions/cache',
    sha: '5a3ec84eff668545956fd18022155c47e93e2684',
    version: 'v4.2.3',
  },
  uploadArtifact: {
    repo: 'actions/upload-artifact',
    sha: 'ea165f8d65b6e75b540449e92b4886f43607fa02',
    version: 'v4.6.2',
  },
} as const;

const uses = (action: keyof typeof ACTIONS) => `${ACTIONS[action].repo}@${ACTIONS[action].sha}`;

const CONDITIONS: Record<Trigger, string> = {
  [TRIGGERS.pullRequest]: "github.event_name == 'pull_request'",
  [TRIGGERS.main]: "github.event_name == 'push' && github.ref == 'refs/heads/main'",
  [TRIGGERS.release]:
    "startsWith(github.ref, 'refs/tags/v') || github.event_name == 'workflow_dispatch'",
};

/** Not a pull request from a fork: those run without secrets and must not try to use them. */
const TRUSTED =
  "github.event_name != 'pull_request' || github.event.pull_request.head.repo.full_name == github.repository";

function condition(job: Job): string {
  const triggers = job.triggers.map((t) => CONDITIONS[t]);
  const parts = [triggers.length === 1 ? triggers[0]! : triggers.map((c) => `(${c})`).join(' || ')];
  if (job.trustedOnly && job.triggers.includes(TRIGGERS.pullRequest)) parts.push(TRUSTED);
  if (job.onlyIf) parts.push(`vars.${job.onlyIf} != ''`);
  return parts.length === 1 ? parts[0]! : parts.map((p) => `(${p})`).join(' && ');
}

function settingEnv(settings: readonly Setting[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of settings) {
    const kind = SETTINGS[name].kind;
    if (kind === 'variable') env[name] = `\${{ vars.${name} }}`;
    if (kind === 'secret') env[name] = `\${{ secrets.${name} }}`;
  }
  return env;
}

function renderJob(job: Job): Record<string, unknown> {
  const permissions: Record<string, string> = { contents: 'read' };
  // ci:base asks the API for the last successful run on main; the approval step for its reviews.
  if (job.affected || job.approval) permissions['actions'] = 'read';

  const steps: Record<string, unknown>[] = [
    {
      uses: uses('checkout'),
      with: { 'fetch-depth': job.affected || job.onlyIf ? 0 : 1, 'persist-credentials': false },
    },
    { uses: uses('setupNode'), with: { 'node-version-file': '.nvmrc', cache: 'npm' } },
    { name: 'Install dependencies', run: 'npm ci' },
  ];
  if (job.nxCache) {
    steps.push({
      name: 'Nx cache',
      uses: uses('cache'),
      with: {
        path: '.nx/cache',
        key: `nx-\${{ runner.os }}-${job.id}-\${{ hashFiles('package-lock.json') }}-\${{ github.sha }}`,
        'restore-keys': `nx-\${{ runner.os }}-${job.id}-\${{ hashFiles('package-lock.json') }}-`,
      },
    });
  }
  if (job.affected) {
    steps.push({
      name: 'Base and head of nx affected',
      run: 'npm run --silent ci:base >> "$GITHUB_ENV"',
      env: { GITHUB_TOKEN: '${{ github.token }}' },
    });
  }
  if (job.settings.includes('KUBECONFIG')) {
    steps.push({
      name: 'Kubeconfig of the environment',
      run: [
        'umask 077',
        'printf \'%s\\n\' "$KUBECONFIG_CONTENT" > "$RUNNER_TEMP/kubeconfig"',
        'echo "KUBECONFIG=$RUNNER_TEMP/kubeconfig" >> "$GITHUB_ENV"',
        '',
      ].join('\n'),
      env: { KUBECONFIG_CONTENT: '${{ secrets.KUBECONFIG }}' },
    });
  }
  if (job.approval) {
    steps.push({
      name: 'Who approved this deployment',
      run: [
        `approver="$(npm run --silent ci:approved-by -- --environment ${job.environment ?? ''})"`,
        'echo "FLOTILLA_APPROVED_BY=$approver" >> "$GITHUB_ENV"',
        '',
      ].join('\n'),
      env: { GITHUB_TOKEN: '${{ github.token }}' },
    });
  }
  const env = settingEnv(job.settings);
  for (const command of job.commands) {
    steps.push({
      name: command.name,
      run: command.run,
      // A copy per step: a shared object would be written as a YAML anchor and aliases.
      ...(Object.keys(env).length > 0 ? { env: { ...env } } : {}),
    });
  }
  if (job.artifacts.length > 0) {
    steps.push({
      name: 'Keep reports',
      if: 'always()',
      uses: uses('uploadArtifact'),
      with: {
        name: `${job.id}-\${{ github.sha }}`,
        path: job.artifacts.join('\n'),
        'if-no-files-found': 'ignore',
      },
    });
  }

  const rendered: Record<string, unknown> = {
    name: job.name,
    if: condition(job),
  };
  if (job.needs.length > 0) rendered['needs'] = [...job.needs];
  rendered['runs-on'] = 'ubuntu-24.04';
  rendered['timeout-minutes'] = job.timeoutMinutes;
  rendered['permissions'] = permissions;
  if (job.environment) {
    rendered['environment'] = job.environment;
    rendered['concurrency'] = { group: `deploy-${job.environment}`, 'cancel-in-progress': false };
  }
  if (job.services) {
    const urls = serviceUrls({ postgres: 'localhost', redis: 'localhost' });
    rendered['env'] = { ...urls };
    rendered['services'] = {
      postgres: {
        image: SERVICE_IMAGES.postgres,
        env: { POSTGRES_PASSWORD: 'postgres' },
        ports: ['5432:5432'],
        options:
          '--health-cmd "pg_isready -U postgres" --health-interval 5s --health-timeout 5s --health-retries 10',
      },
      redis: {
        image: SERVICE_IMAGES.redis,
        ports: ['6379:6379'],
        options:
          '--health-cmd "redis-cli ping" --health-interval 5s --health-timeout 5s --health-retries 10',
      },
    };
  }
  rendered['steps'] = steps;
  return rendered;
}

/** The workflow file's text (before formatting). */
export function renderGithub(jobs: readonly Job[]): string {
  const workflow = {
    name: 'CI/CD',
    on: {
      pull_request: { branches: ['main'] },
      push: { branches: ['main'], tags: ['v*'] },
      workflow_dispatch: {},
    },
    // Nothing by default; each job asks for what it needs.
    permissions: {},
    concurrency: {
      // A new push to a pull request cancels its older run; pushes to main and tags never do.
      group: '${{ github.workflow }}-${{ github.event.pull_request.number || github.sha }}',
      'cancel-in-progress': "${{ github.event_name == 'pull_request' }}",
    },
    env: { NX_NO_CLOUD: 'true', NX_DAEMON: 'false' },
    jobs: Object.fromEntries(jobs.map((j) => [j.id, renderJob(j)])),
  };
  const doc = new Document(workflow);
  visit(doc, {
    Scalar(_key, node) {
      const pinned = Object.values(ACTIONS).find((a) => node.value === `${a.repo}@${a.sha}`);
      if (pinned) node.comment = ` ${pinned.version}`;
    },
  });
  doc.commentBefore = ` ${GENERATED_NOTICE}`;
  return doc.toString({ lineWidth: 0 });
}
