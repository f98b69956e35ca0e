// What the pipelines rely on: `nx affected` picks the right projects for `test` and for `deploy`.
// In a temporary clone, one commit changes one file; the affected projects of each target are
// compared with what a change of that kind must select.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cleanEnv, cloneRepository, run, type Clone } from './support.ts';

const APPS = ['gateway', 'order-service', 'payment-service', 'user-service'];
const LIBS = ['auth', 'cache', 'config', 'db', 'health', 'http', 'logging', 'metrics', 'tracing'];

interface Scenario {
  change: string;
  file: string;
  /** Projects whose tests must run. */
  test: string[];
  /** Projects whose tests must not run. */
  notTest: string[];
  /** Exactly the services to deploy. */
  deploy: string[];
}

const SCENARIOS: Scenario[] = [
  {
    change: 'an app',
    file: 'apps/user-service/src/app.ts',
    test: ['user-service'],
    notTest: [...APPS.filter((a) => a !== 'user-service'), ...LIBS],
    deploy: ['user-service'],
  },
  {
    change: 'a service that another one calls',
    file: 'apps/payment-service/src/app.ts',
    test: ['payment-service'],
    notTest: [...APPS.filter((a) => a !== 'payment-service'), ...LIBS],
    deploy: ['payment-service'],
  },
  {
    change: 'a lib',
    file: 'libs/cache/src/index.ts',
    test: ['cache', 'gateway', 'user-service'],
    notTest: ['order-service', 'payment-service'],
    deploy: ['gateway', 'user-service'],
  },
  {
    change: "an app's chart",
    file: 'helm/user-service/values.yaml',
    test: ['helm'],
    notTest: [...APPS.filter((a) => a !== 'user-service'), ...LIBS],
    deploy: ['user-service'],
  },
  {
    change: 'the shared library chart',
    file: 'helm/flotilla-lib/Chart.yaml',
    test: ['helm'],
    notTest: LIBS,
    deploy: APPS,
  },
  {
    change: 'an environment file',
    file: 'deploy/environments/dev.yaml',
    test: [],
    notTest: LIBS,
    deploy: APPS,
  },
  {
    change: 'the image checks (not the image)',
    file: 'docker/src/compose.ts',
    test: ['docker'],
    notTest: LIBS,
    deploy: [],
  },
  {
    change: 'the Dockerfile',
    file: 'docker/Dockerfile',
    test: ['docker'],
    notTest: LIBS,
    deploy: APPS,
  },
];

let clone: Clone;
let base = '';
before(async () => {
  clone = await cloneRepository(true);
  base = clone.git('rev-parse', 'HEAD');
});
after(() => clone.remove());

async function affected(target: string): Promise<string[]> {
  const result = await run(
    'npx',
    [
      'nx',
      'show',
      'projects',
      '--affected',
      `--base=${base}`,
      '--head=HEAD',
      '--with-target',
      target,
      '--json',
    ],
    { cwd: clone.dir, env: cleanEnv() },
  );
  assert.equal(result.status, 0, result.output);
  return (JSON.parse(result.stdout) as string[]).sort();
}

for (const scenario of SCENARIOS) {
  describe(`a commit that changes ${scenario.change} (${scenario.file})`, () => {
    let testSet: string[] = [];
    let deploySet: string[] = [];
    before(async () => {
      clone.git('checkout', '-q', '-B', 'change', base);
      const path = join(clone.dir, scenario.file);
      if (!existsSync(path)) return; // the `it`s below say it is missing
      // A comment line: a change to the file that every tool still reads the same way.
      await appendFile(path, scenario.file.endsWith('.ts') ? '// changed\n' : '# changed\n');
      clone.git('commit', '-q', '-am', `change ${scenario.file}`);
      testSet = await affected('test');
      deploySet = await affected('deploy');
    });

    it('runs the tests of the projects it can break, and only those', () => {
      assert.ok(existsSync(join(clone.dir, scenario.file)), `${scenario.file} does not exist`);
      const missing = scenario.test.filter((p) => !testSet.includes(p));
      const extra = scenario.notTest.filter((p) => testSet.includes(p));
      assert.deepEqual(
        { missing, extra },
        { missing: [], extra: [] },
        `nx affected -t test selected [${testSet.join(', ')}]`,
      );
    });

    it(`deploys exactly ${scenario.deploy.join(', ')}`, () => {
      assert.ok(existsSync(join(clone.dir, scenario.file)), `${scenario.file} does not exist`);
      assert.deepEqual(
        deploySet,
        scenario.deploy,
        `nx affected -t deploy selected [${deploySet.join(', ')}], expected [${scenario.deploy.join(', ')}]` +
          (deploySet.length === 0
            ? ' (no project has a deploy target that this change affects)'
            : ''),
      );
    });
  });
}
