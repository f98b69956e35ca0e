// The deploy kit as an Nx plugin: every app (a project tagged type:app) gets the targets
// `deploy`, `rollback` and `deploy-status`, run by this project's executors (executors.json), so
// `nx run <app>:deploy --env=<env>` and `nx affected -t deploy --env=<env>` work without a line
// in each project.json. Registered in nx.json's `plugins`.
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { createNodesFromFiles, type CreateNodesV2, type TargetConfiguration } from '@nx/devkit';

/**
 * What a release of an app is made of: its production code and the libs it imports (its image),
 * its chart and the library chart, the Dockerfile, and the environment files. A change to any of
 * them makes the app affected for `deploy`; its tests and docs do not change what is released.
 */
export function deployInputs(app: string): string[] {
  // Spelled out, not `{projectName}`: Nx matches changed files against these paths literally when
  // it works out what a change affects.
  return [
    'production',
    '^production',
    `{workspaceRoot}/helm/${app}/**/*`,
    '{workspaceRoot}/helm/flotilla-lib/**/*',
    '{workspaceRoot}/docker/Dockerfile',
    '{workspaceRoot}/deploy/environments/*.yaml',
  ];
}

export function deployTargets(app: string): Record<string, TargetConfiguration> {
  return {
    deploy: {
      executor: '@flotilla/deploy-kit:deploy',
      cache: false,
      inputs: deployInputs(app),
      metadata: {
        description: 'Release to an environment: --env=<local|dev|staging|production>, --dry-run',
      },
    },
    rollback: {
      executor: '@flotilla/deploy-kit:rollback',
      cache: false,
      metadata: {
        description: 'Back to the previous successful release: --env=<env>, --to=<version>',
      },
    },
    'deploy-status': {
      executor: '@flotilla/deploy-kit:status',
      cache: false,
      metadata: { description: 'What runs now and the last releases: --env=<env>' },
    },
  };
}

export const createNodesV2: CreateNodesV2 = [
  'apps/*/project.json',
  (configFiles, options, context) =>
    createNodesFromFiles(
      (file) => {
        const project = JSON.parse(readFileSync(join(context.workspaceRoot, file), 'utf8')) as {
          tags?: string[];
        };
        if (!project.tags?.includes('type:app')) return {};
        const root = dirname(file);
        return { projects: { [root]: { targets: deployTargets(basename(root)) } } };
      },
      configFiles,
      options,
      context,
    ),
];
