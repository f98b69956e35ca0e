import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { contextSources, dockerignore } from './build-context.ts';

describe('dockerignore', () => {
  const ignored = dockerignore(
    '# comment\n**/node_modules\ndist\ne2e/*\n!e2e/package.json\n/docs\n**/*.test.ts\n',
  );

  it('leaves out what a pattern names, and everything inside a named directory', () => {
    assert.equal(ignored('dist'), true);
    assert.equal(ignored('dist/apps/gateway/main.js'), true);
    assert.equal(ignored('apps/gateway/node_modules/x/index.js'), true);
    assert.equal(ignored('docs/alerts.md'), true);
    assert.equal(ignored('libs/http/src/app.test.ts'), true);
  });

  it('keeps what no pattern names, and what a later ! re-includes', () => {
    assert.equal(ignored('apps/gateway/src/main.ts'), false);
    assert.equal(ignored('e2e/package.json'), false);
    assert.equal(ignored('e2e/tests/purchase.e2e.ts'), true);
  });
});

describe('contextSources', () => {
  it('lists what a stage copies from the build context, not from other stages', () => {
    const dockerfile = readFileSync(new URL('../Dockerfile', import.meta.url), 'utf8');
    assert.deepEqual(contextSources(dockerfile, 'workspace'), [
      'package.json',
      'package-lock.json',
      'e2e/package.json',
      'nx.json',
      'tsconfig.base.json',
      'apps',
      'libs',
      'tools',
    ]);
    assert.deepEqual(contextSources(dockerfile, 'manifests'), ['apps', 'libs', 'tools']);
    assert.deepEqual(contextSources(dockerfile, 'runtime'), []);
  });
});
