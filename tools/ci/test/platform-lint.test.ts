// The GitHub workflow and the Jenkinsfile checked by their platforms' linters, each shown to
// reject a broken copy.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OUTPUTS } from '../src/pipeline.ts';
import { bin, cleanEnv, installedTool, root, run } from './support.ts';

let scratch = '';
before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'flotilla-lint-'));
});
after(() => rm(scratch, { recursive: true, force: true }));

describe('GitHub Actions workflow (actionlint with shellcheck)', () => {
  const actionlint = (dir: string) =>
    run(installedTool('actionlint'), ['-no-color', '-shellcheck', installedTool('shellcheck')], {
      cwd: dir,
      env: cleanEnv(),
    });

  it('passes', async () => {
    const result = await actionlint(root);
    assert.equal(result.status, 0, result.output);
  });

  it('rejects untrusted input in a script and an unquoted variable', async () => {
    const dir = join(scratch, 'github');
    await mkdir(join(dir, '.github/workflows'), { recursive: true });
    execFileSync('git', ['init', '-q', dir]); // actionlint finds workflows from the repository root
    const workflow = await readFile(join(root, OUTPUTS.github), 'utf8');
    const broken = workflow.replace(
      '        run: npm run format:check\n',
      [
        '        run: npm run format:check',
        '      - name: Title',
        '        run: echo "${{ github.event.pull_request.title }}" && ls $RUNNER_TEMP',
        '',
      ].join('\n'),
    );
    assert.notEqual(broken, workflow);
    await writeFile(join(dir, OUTPUTS.github), broken);
    const result = await actionlint(dir);
    assert.equal(result.status, 1, result.output);
    assert.match(result.output, /"github\.event\.pull_request\.title" is potentially untrusted/);
    assert.match(result.output, /shellcheck reported issue in this script: SC2086/);
  });
});

describe('Jenkinsfile (npm-groovy-lint)', () => {
  const groovyLint = (dir: string) =>
    run(
      bin('npm-groovy-lint'),
      ['--noserver', '--failon', 'info', '--output', 'txt', 'Jenkinsfile'],
      {
        cwd: dir,
        env: cleanEnv(),
        timeoutMs: 180_000,
      },
    );

  it('passes with no error, warning or info', async () => {
    const result = await groovyLint(root);
    assert.equal(result.status, 0, result.output);
    assert.match(result.output, /Error\W+0[\s\S]*Warning\W+0[\s\S]*Info\W+0/);
  });

  it('rejects a Jenkinsfile with a syntax error', async () => {
    const dir = join(scratch, 'jenkins');
    await mkdir(dir, { recursive: true });
    await cp(join(root, '.groovylintrc.json'), join(dir, '.groovylintrc.json'));
    const jenkinsfile = await readFile(join(root, OUTPUTS.jenkins), 'utf8');
    await writeFile(
      join(dir, 'Jenkinsfile'),
      jenkinsfile.replace("stage('Install') {", "stage('Install' {"),
    );
    const result = await groovyLint(dir);
    assert.equal(result.status, 1, result.output);
    assert.match(result.output, /NglParseError|unexpected token/i);
  });
});
