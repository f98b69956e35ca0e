// Renders the pipeline description as a declarative Jenkinsfile (multibranch pipeline).
import {
  GENERATED_NOTICE,
  JENKINS_APPROVERS,
  STAGES,
  TRIGGERS,
  type Job,
  type Setting,
  type Trigger,
} from './pipeline.ts';

/** Jenkins credential ids the pipeline binds (Manage Jenkins > Credentials). */
export const CREDENTIALS = {
  registry: 'image-registry',
  sonar: 'sonar-token',
  kubeconfig: (env: string) => `kubeconfig-${env}`,
} as const;

// Which pipeline a build is: functions at the end of the Jenkinsfile, so each stage's `when`
// reads as one line (multibranch sets CHANGE_ID for change requests and TAG_NAME for tags).
const CONDITIONS: Record<Trigger, string> = {
  [TRIGGERS.pullRequest]: 'isChangeRequest()',
  [TRIGGERS.main]: 'isMain()',
  [TRIGGERS.release]: 'isRelease()',
};

const CONDITION_FUNCTIONS = [
  'boolean isChangeRequest() {',
  '    return env.CHANGE_ID != null',
  '}',
  '',
  'boolean isMain() {',
  "    return env.BRANCH_NAME == 'main' && !params.RELEASE",
  '}',
  '',
  'boolean isRelease() {',
  "    return (env.TAG_NAME ?: '').startsWith('v') || params.RELEASE",
  '}',
  '',
  '// A change request from a fork gets no credentials.',
  'boolean isTrusted() {',
  '    return env.CHANGE_FORK == null',
  '}',
];

const STAGE_NAMES: Record<(typeof STAGES)[number], string> = {
  test: 'Test',
  quality: 'Quality',
  build: 'Build',
  deploy: 'Deploy',
};

const indent = (lines: readonly string[], by: number) =>
  lines.map((l) => (l === '' ? l : `${' '.repeat(by)}${l}`));

const quote = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

function when(job: Job): string[] {
  const triggers = job.triggers.map((t) => CONDITIONS[t]);
  if (job.trustedOnly && job.triggers.includes(TRIGGERS.pullRequest)) {
    const i = job.triggers.indexOf(TRIGGERS.pullRequest);
    triggers[i] = `(${triggers[i]!} && isTrusted())`;
  }
  let condition = triggers.join(' || ');
  if (job.onlyIf) {
    condition = `${triggers.length > 1 ? `(${condition})` : condition} && env.${job.onlyIf}`;
  }
  return [
    'when {',
    ...(job.approval ? ['    beforeInput true'] : []),
    `    expression { return ${condition} }`,
    '}',
  ];
}

function credentials(job: Job): string[] {
  const has = (s: Setting) => job.settings.includes(s);
  const bindings: string[] = [];
  if (has('REGISTRY_USER') || has('REGISTRY_PASSWORD')) {
    bindings.push(
      `usernamePassword(credentialsId: '${CREDENTIALS.registry}',\n    usernameVariable: 'REGISTRY_USER', passwordVariable: 'REGISTRY_PASSWORD')`,
    );
  }
  if (has('SONAR_TOKEN')) {
    bindings.push(`string(credentialsId: '${CREDENTIALS.sonar}', variable: 'SONAR_TOKEN')`);
  }
  if (has('KUBECONFIG') && job.environment) {
    bindings.push(
      `file(credentialsId: '${CREDENTIALS.kubeconfig(job.environment)}', variable: 'KUBECONFIG')`,
    );
  }
  return bindings;
}

function steps(job: Job): string[] {
  let body = job.commands.map((c) => `sh ${quote(c.run)}`);
  const bindings = credentials(job);
  if (bindings.length > 0) {
    body = [
      'withCredentials([',
      ...indent(
        bindings.flatMap((b, i) => `${b}${i < bindings.length - 1 ? ',' : ''}`.split('\n')),
        4,
      ),
      ']) {',
      ...indent(body, 4),
      '}',
    ];
  }
  if (job.nxCache) {
    // Nx's local cache kept between builds by the Job Cacher plugin.
    body = [
      "cache(maxCacheSize: 2048, defaultBranch: 'main', caches: [",
      "    arbitraryFileCache(path: '.nx/cache', cacheValidityDecidingFile: 'package-lock.json')",
      ']) {',
      ...indent(body, 4),
      '}',
    ];
  }
  if (job.approval) {
    // The deploy's own time limit; waiting for the approval is not counted.
    body = [`timeout(time: ${job.timeoutMinutes}, unit: 'MINUTES') {`, ...indent(body, 4), '}'];
  }
  return body;
}

function renderStage(job: Job): string[] {
  const lines = [`stage(${quote(job.name)}) {`, ...indent(when(job), 4)];
  if (job.approval) {
    lines.push(
      '    input {',
      `        message ${quote(`Deploy this commit to ${job.environment ?? ''}?`)}`,
      "        ok 'Deploy'",
      `        submitter ${quote(JENKINS_APPROVERS)}`,
      "        submitterParameter 'FLOTILLA_APPROVED_BY'",
      '    }',
    );
  }
  const options: string[] = [];
  if (!job.approval) options.push(`timeout(time: ${job.timeoutMinutes}, unit: 'MINUTES')`);
  // One deploy per environment at a time (Lockable Resources plugin).
  if (job.environment) options.push(`lock(${quote(`flotilla-deploy-${job.environment}`)})`);
  if (options.length > 0) lines.push('    options {', ...indent(options, 8), '    }');
  lines.push('    steps {', ...indent(steps(job), 8), '    }');
  if (job.artifacts.length > 0) {
    const globs = job.artifacts.map((a) => (a.endsWith('/') ? `${a}**` : a)).join(', ');
    lines.push(
      '    post {',
      '        always {',
      `            archiveArtifacts artifacts: ${quote(globs)}, allowEmptyArchive: true`,
      '        }',
      '    }',
    );
  }
  lines.push('}');
  return lines;
}

/** The Jenkinsfile text. */
export function renderJenkins(jobs: readonly Job[]): string {
  const stages: string[] = [
    "stage('Install') {",
    '    steps {',
    "        sh 'npm ci --no-audit --no-fund'",
    '        script {',
    '            // NX_BASE and NX_HEAD for nx affected: the change request target or the last green build',
    "            String shas = sh(script: 'npm run --silent ci:base', returnStdout: true).trim()",
    '            shas.readLines().each { line ->',
    "                List<String> pair = line.tokenize('=')",
    '                env[pair[0]] = pair[1]',
    '            }',
    '        }',
    '    }',
    '}',
  ];
  for (const stage of STAGES) {
    const inStage = jobs.filter((j) => j.stage === stage);
    if (inStage.length === 0) continue;
    if (inStage.length === 1) {
      stages.push(...renderStage(inStage[0]!));
      continue;
    }
    // Jobs of a stage run side by side unless one needs another (staging before production).
    const ids = new Set(inStage.map((j) => j.id));
    const sequential = inStage.some((j) => j.needs.some((n) => ids.has(n)));
    stages.push(
      `stage(${quote(STAGE_NAMES[stage])}) {`,
      sequential ? '    stages {' : '    parallel {',
    );
    for (const job of inStage) stages.push(...indent(renderStage(job), 8));
    stages.push('    }', '}');
  }
  const lines = [
    `// ${GENERATED_NOTICE}`,
    '',
    'pipeline {',
    "    agent { label 'flotilla' }",
    '    options {',
    "        buildDiscarder(logRotator(numToKeepStr: '30'))",
    '        disableConcurrentBuilds()',
    '        timestamps()',
    '    }',
    '    parameters {',
    "        booleanParam(name: 'RELEASE', defaultValue: false,",
    "            description: 'Deploy this commit to staging, then to production after approval')",
    '    }',
    '    environment {',
    "        NX_NO_CLOUD = 'true'",
    "        NX_DAEMON = 'false'",
    '    }',
    '    stages {',
    ...indent(stages, 8),
    '    }',
    '}',
    '',
    ...CONDITION_FUNCTIONS,
    '',
  ];
  return lines.join('\n');
}
