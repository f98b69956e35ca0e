// The quality and security steps that run offline, each with a negative control: the SBOM and its
// schema, the secret scan and a planted key, the audit gate against a local advisory service.
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { validateBom } from '../src/sbom.ts';
import { cleanEnv, cloneRepository, root, run, type Clone } from './support.ts';

let scratch = '';
before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'flotilla-quality-'));
});
after(() => rm(scratch, { recursive: true, force: true }));

describe('npm run sbom', () => {
  it('writes a CycloneDX 1.6 SBOM of the production dependencies that passes its schema', async () => {
    const output = join(scratch, 'flotilla.cdx.json');
    const result = await run('npm', ['run', '--silent', 'sbom', '--', '--output', output], {
      env: cleanEnv(),
    });
    assert.equal(result.status, 0, result.output);
    const bom = JSON.parse(await readFile(output, 'utf8'));
    assert.equal(bom.bomFormat, 'CycloneDX');
    assert.equal(bom.specVersion, '1.6');
    const names = JSON.stringify(bom.components);
    const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
    for (const dependency of Object.keys(pkg.dependencies)) {
      assert.ok(
        names.includes(`"name":"${dependency.split('/').pop()}"`),
        `${dependency} is in the SBOM`,
      );
    }
    for (const dev of ['typescript', 'eslint', 'nx']) {
      assert.ok(!names.includes(`"purl":"pkg:npm/${dev}@`), `${dev} (dev) is not in the SBOM`);
    }
    assert.deepEqual(await validateBom(JSON.stringify(bom)), []);
  });

  it('rejects an SBOM that breaks the schema', async () => {
    const output = join(scratch, 'flotilla.cdx.json');
    const bom = JSON.parse(await readFile(output, 'utf8'));
    bom.components[0].type = 'spaceship';
    delete bom.components[1].name;
    const errors = await validateBom(JSON.stringify(bom));
    assert.ok(errors.length > 0);
    assert.match(
      errors.join('\n'),
      /components\/0\/type|must be equal to one of the allowed values/,
    );
  });
});

describe('npm run secrets:scan', () => {
  let clone: Clone;
  before(async () => {
    clone = await cloneRepository(true);
  });
  after(() => clone.remove());
  const scan = () =>
    run('node', [join(root, 'tools/ci/src/secrets-scan.ts'), clone.dir], { env: cleanEnv() });

  it('finds no secret in the repository', async () => {
    const result = await scan();
    assert.equal(result.status, 0, result.output);
    assert.match(result.stdout, /\d{3,} files scanned, 0 secret\(s\) found/);
  });

  it('catches a planted cloud secret, token and private key, naming the files', async () => {
    // Made at run time, so that no secret-shaped value is committed, this file included.
    const awsSecret = randomBytes(30).toString('base64').replace(/[+/]/g, 'x');
    const token = `ghp_${randomBytes(27).toString('base64').replace(/[+/=]/g, 'x').slice(0, 36)}`;
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await writeFile(join(clone.dir, 'deploy/aws.env'), `AWS_SECRET_ACCESS_KEY=${awsSecret}\n`);
    await writeFile(
      join(clone.dir, 'apps/user-service/src/github.ts'),
      `export const token = '${token}';\n`,
    );
    await writeFile(
      join(clone.dir, 'helm/id_rsa'),
      privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
    );
    clone.git('add', '.'); // tracked, as a commit would have them
    const result = await scan();
    assert.equal(result.status, 1, result.output);
    assert.match(result.stdout, /deploy\/aws\.env:1 .*secretlint-rule-aws .*AWS Secret Access Key/);
    assert.match(result.stdout, /apps\/user-service\/src\/github\.ts:1 .*secretlint-rule-github/);
    assert.match(result.stdout, /helm\/id_rsa:1 .*secretlint-rule-privatekey/);
    assert.match(result.stdout, /3 secret\(s\) found/);
    assert.ok(!result.output.includes(awsSecret), 'the secret is masked in the report');
  });
});

describe('npm run audit', () => {
  // The registry's bulk advisory endpoint, as a local server; what it answers is set per test.
  let advisories: Record<string, unknown> | 'refuse' = {};
  let server: Server;
  let registry = '';
  before(async () => {
    server = createServer((req, res) => {
      if (req.method === 'POST' && req.url?.endsWith('/-/npm/v1/security/advisories/bulk')) {
        if (advisories === 'refuse') {
          res.statusCode = 405;
          res.end();
          return;
        }
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(advisories));
        return;
      }
      // Packuments npm reads to work out the fix: one version before and one after the advisory.
      const name = decodeURIComponent(req.url?.slice(1) ?? '');
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          name,
          'dist-tags': { latest: '1.2.8' },
          versions: Object.fromEntries(
            ['1.2.5', '1.2.8'].map((v) => [
              v,
              { name, version: v, dist: { tarball: `${registry}/${name}-${v}.tgz` } },
            ]),
          ),
        }),
      );
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    registry = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // A project whose lockfile has minimist 1.2.5 in production and left-pad 1.3.0 for development.
    await writeFile(
      join(scratch, 'package.json'),
      JSON.stringify({
        name: 'audited',
        version: '1.0.0',
        dependencies: { minimist: '1.2.5' },
        devDependencies: { 'left-pad': '1.3.0' },
      }),
    );
    const entry = (name: string, version: string, dev: boolean) => ({
      version,
      resolved: `${registry}/${name}-${version}.tgz`,
      ...(dev ? { dev: true } : {}),
    });
    await writeFile(
      join(scratch, 'package-lock.json'),
      JSON.stringify({
        name: 'audited',
        version: '1.0.0',
        lockfileVersion: 3,
        requires: true,
        packages: {
          '': {
            name: 'audited',
            version: '1.0.0',
            dependencies: { minimist: '1.2.5' },
            devDependencies: { 'left-pad': '1.3.0' },
          },
          'node_modules/minimist': entry('minimist', '1.2.5', false),
          'node_modules/left-pad': entry('left-pad', '1.3.0', true),
        },
      }),
    );
  });
  after(() => server.close());

  const audit = () =>
    run('node', [join(root, 'tools/ci/src/audit.ts')], {
      cwd: scratch,
      env: cleanEnv({
        npm_config_registry: `${registry}/`,
        npm_config_cache: join(scratch, '.npm'),
      }),
    });
  const advisory = (id: number, severity: string, range: string) => ({
    id,
    url: `https://example.com/advisories/${id}`,
    title: 'Prototype Pollution',
    severity,
    vulnerable_versions: range,
    cwe: ['CWE-1321'],
    cvss: { score: 9.8, vectorString: null },
  });

  it('passes when no advisory matches', async () => {
    advisories = {};
    const result = await audit();
    assert.equal(result.status, 0, result.output);
    assert.match(result.stdout, /0 vulnerable package\(s\), 0 at or above high/);
  });

  it('fails on a critical advisory of a production dependency, naming it', async () => {
    advisories = { minimist: [advisory(1179, 'critical', '<1.2.6')] };
    const result = await audit();
    assert.equal(result.status, 1, result.output);
    assert.match(
      result.stdout,
      /critical\s+minimist \S+ \(fix available\) https:\/\/example\.com\/advisories\/1179/,
    );
  });

  it('passes an advisory below the gate, and ignores development dependencies', async () => {
    advisories = {
      minimist: [advisory(1180, 'moderate', '<1.2.6')],
      'left-pad': [advisory(1181, 'critical', '<2.0.0')],
    };
    const result = await audit();
    assert.equal(result.status, 0, result.output);
    assert.match(result.stdout, /1 vulnerable package\(s\), 0 at or above high/);
  });

  it('fails when the audit service does not answer', async () => {
    advisories = 'refuse';
    const result = await audit();
    assert.equal(result.status, 2, result.output);
    assert.match(result.stderr, /audit service did not answer: 405/);
  });
});
