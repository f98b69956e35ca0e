// Unit-test coverage of the code projects (apps, libs, tools) as one lcov report for SonarQube:
//   node tools/ci/src/coverage.ts [--projects a,b] [--output coverage/lcov.info]   (npm run coverage)
// Each project's `src/**/*.test.ts` runs with node's test runner and its coverage; the paths in
// the report are made relative to the repository root, as sonar-project.properties expects.
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createProjectGraphAsync } from '@nx/devkit';
import { isMain } from './cli.ts';

/** Where `npm run coverage` writes the report; sonar-project.properties reads it from there. */
export const LCOV_REPORT = 'coverage/lcov.info';

/** Kinds of project whose source code Sonar analyses; ops projects check configuration files. */
const CODE_TAGS = ['type:app', 'type:lib', 'type:tool'];

export interface CodeProject {
  name: string;
  root: string;
}

/** Projects with unit tests whose code coverage belongs in the report. */
export async function codeProjects(): Promise<CodeProject[]> {
  const graph = await createProjectGraphAsync({ exitOnError: true });
  return Object.values(graph.nodes)
    .filter((node) => node.data.targets?.['test'])
    .filter((node) => (node.data.tags ?? []).some((tag) => CODE_TAGS.includes(tag)))
    .map((node) => ({ name: node.name, root: node.data.root }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Prefixes each `SF:` (source file) line of an lcov report with the project's root. */
export function rebaseLcov(lcov: string, projectRoot: string): string {
  return lcov.replace(/^SF:(.*)$/gm, (_line, file: string) =>
    file.startsWith('/') ? `SF:${file}` : `SF:${projectRoot}/${file}`,
  );
}

/** Runs one project's unit tests with coverage; returns its lcov report, paths from the root. */
export async function projectCoverage(workspace: string, project: CodeProject): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'flotilla-coverage-'));
  try {
    const lcov = join(dir, 'lcov.info');
    const result = spawnSync(
      process.execPath,
      [
        '--test',
        '--experimental-test-coverage',
        '--test-coverage-include=src/**',
        '--test-coverage-exclude=src/**/*.test.ts',
        '--test-coverage-exclude=src/**/testing/**',
        '--test-reporter=lcov',
        `--test-reporter-destination=${lcov}`,
        '--test-reporter=dot',
        '--test-reporter-destination=stdout',
        '--test-timeout=60000',
        'src/**/*.test.ts',
      ],
      { cwd: join(workspace, project.root), stdio: ['ignore', 'inherit', 'inherit'] },
    );
    if (result.status !== 0) {
      throw new Error(`unit tests of ${project.name} failed (exit ${result.status ?? 'signal'})`);
    }
    return rebaseLcov(await readFile(lcov, 'utf8'), project.root);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      projects: { type: 'string' },
      output: { type: 'string', default: LCOV_REPORT },
    },
  });
  const workspace = resolve(import.meta.dirname, '../../..');
  try {
    let projects = await codeProjects();
    if (values.projects) {
      const wanted = values.projects.split(',');
      const unknown = wanted.filter((w) => !projects.some((p) => p.name === w));
      if (unknown.length > 0)
        throw new Error(`no code project with unit tests: ${unknown.join(', ')}`);
      projects = projects.filter((p) => wanted.includes(p.name));
    }
    const reports: string[] = [];
    for (const project of projects) {
      process.stdout.write(`coverage: ${project.name}\n`);
      reports.push(await projectCoverage(workspace, project));
    }
    const output = resolve(workspace, values.output);
    await mkdir(dirname(output), { recursive: true });
    await writeFile(output, reports.join(''));
    const files = reports.join('').match(/^SF:/gm)?.length ?? 0;
    process.stdout.write(
      `coverage: ${output}: ${projects.length} projects, ${files} source files\n`,
    );
  } catch (err) {
    process.stderr.write(`coverage: ${(err as Error).message}\n`);
    process.exit(1);
  }
}
