import assert from 'node:assert/strict';
import { cp, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { packChart } from './helm.ts';

const HELM = fileURLToPath(new URL('../../../../../helm/', import.meta.url));
const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

describe('packChart (real helm)', () => {
  // A copy of the repository's service chart and library chart, nothing packed yet.
  let workspace: string;
  before(async () => {
    workspace = await mkdtemp(join(tmpdir(), 'pack-chart-test-'));
    for (const chart of ['user-service', 'flotilla-lib'])
      await cp(join(HELM, chart), join(workspace, chart), {
        recursive: true,
        filter: (path) => !/[/\\](charts|Chart\.lock)$/.test(path),
      });
  });
  after(() => rm(workspace, { recursive: true, force: true }));

  it('packs the dependencies into a copy and leaves the chart it was given as it was', async () => {
    const packed = await packChart(workspace, 'user-service');
    try {
      assert.deepEqual(await readdir(join(packed.dir, 'charts')), ['flotilla-lib-0.1.0.tgz']);
      assert.ok(await exists(join(packed.dir, 'templates')));
      assert.equal(await exists(join(workspace, 'user-service', 'charts')), false);
      assert.equal(await exists(join(workspace, 'user-service', 'Chart.lock')), false);
    } finally {
      await packed.done();
    }
    assert.equal(await exists(packed.dir), false, 'done removes the copy');
  });

  it('gives two packs at once folders of their own', async () => {
    const [a, b] = await Promise.all([
      packChart(workspace, 'user-service'),
      packChart(workspace, 'user-service'),
    ]);
    assert.notEqual(a.dir, b.dir);
    await Promise.all([a.done(), b.done()]);
  });

  it('refuses a dependency outside the charts folder, and leaves no copy behind', async () => {
    const before = new Set(await readdir(tmpdir()));
    await cp(join(workspace, 'user-service'), join(workspace, 'escapes'), { recursive: true });
    await writeFile(
      join(workspace, 'escapes', 'Chart.yaml'),
      'apiVersion: v2\nname: escapes\nversion: 0.1.0\ndependencies:\n  - name: x\n    version: 0.1.0\n    repository: file://../../elsewhere\n',
    );
    await assert.rejects(packChart(workspace, 'escapes'), /depends on .*elsewhere, outside/);
    const left = (await readdir(tmpdir())).filter(
      (name) => name.startsWith('flotilla-chart-') && !before.has(name),
    );
    assert.deepEqual(left, []);
  });
});
