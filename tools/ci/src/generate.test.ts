import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { renderAll, staleFiles } from './files.ts';
import { JOBS, OUTPUTS, jobsOf, validatePipeline, type Job } from './pipeline.ts';

const root = resolve(import.meta.dirname, '../../..');

describe('generated pipeline files', () => {
  it('are committed exactly as tools/ci/src/pipeline.ts renders them', async () => {
    const stale = await staleFiles(root, await renderAll(root));
    assert.deepEqual(stale, [], `run \`npm run ci:generate\`: ${stale.join(', ')} differ`);
  });

  it('are reported stale when a committed file was edited by hand', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'flotilla-ci-'));
    try {
      const rendered = await renderAll(root);
      for (const [path, text] of rendered) {
        await mkdir(dirname(join(dir, path)), { recursive: true });
        await writeFile(join(dir, path), text);
      }
      assert.deepEqual(await staleFiles(dir, rendered), []);
      const edited = rendered.get(OUTPUTS.gitlab)!.replace('--parallel=2', '--parallel=8');
      await writeFile(join(dir, OUTPUTS.gitlab), edited);
      assert.deepEqual(await staleFiles(dir, rendered), [OUTPUTS.gitlab]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('change in all three files when a command of the description changes', async () => {
    const changed = JOBS.map((j) =>
      j.id === 'verify'
        ? { ...j, commands: [...j.commands, { name: 'Extra', run: 'npm run extra-check' }] }
        : j,
    );
    const before = await renderAll(root);
    const after = await renderAll(root, changed);
    for (const path of Object.values(OUTPUTS)) {
      assert.notEqual(after.get(path), before.get(path), path);
      assert.match(after.get(path)!, /npm run extra-check/, path);
    }
  });
});

describe('the pipeline description', () => {
  it('keeps its own rules', () => {
    assert.deepEqual(validatePipeline(), []);
  });

  const broken = (id: string, change: Partial<Job>) =>
    validatePipeline(JOBS.map((j) => (j.id === id ? { ...j, ...change } : j)));

  it('refuses a job that gives a secret to pull requests from forks', () => {
    assert.deepEqual(broken('sonar', { trustedOnly: false }), [
      'sonar: reads SONAR_TOKEN, so it must not run for forks (trustedOnly)',
    ]);
  });

  it('refuses a production deploy without approval', () => {
    assert.deepEqual(broken('deploy-production', { approval: false }), [
      'production is deployed without approval',
    ]);
  });

  it('refuses a job that needs one that does not run in the same pipelines', () => {
    assert.deepEqual(broken('images', { needs: ['publish'] }), [
      'images: needs publish, which does not run on pull-request',
    ]);
  });

  it('refuses a deploy without a kubeconfig', () => {
    assert.deepEqual(broken('deploy-dev', { settings: ['IMAGE_REGISTRY'] }), [
      'deploy-dev: deploys without a KUBECONFIG',
    ]);
  });

  it('runs checks and image scans on pull requests, deploys to dev on main, releases on a tag', () => {
    const ids = (trigger: Parameters<typeof jobsOf>[0]) => jobsOf(trigger).map((j) => j.id);
    assert.deepEqual(ids('pull-request'), ['verify', 'test', 'security', 'sonar', 'images']);
    assert.deepEqual(ids('main'), ['verify', 'test', 'security', 'sonar', 'publish', 'deploy-dev']);
    assert.deepEqual(ids('release'), ['deploy-staging', 'deploy-production']);
  });
});
