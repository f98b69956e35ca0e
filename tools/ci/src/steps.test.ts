// The pure parts of the CI steps: audit and image-scan gates, lcov paths, registry and digest.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { atOrAbove, parseAuditReport } from './audit.ts';
import { LCOV_REPORT, rebaseLcov } from './coverage.ts';
import { digestFor, registryLogin } from './docker-push.ts';
import { registryHost } from './image-ref.ts';
import { TRIVY_IMAGE, gate, parseScanArgs, trivyCommand, vulnerabilitiesOf } from './image-scan.ts';

describe('npm audit report', () => {
  it('reads vulnerable packages and gates on severity', () => {
    const result = parseAuditReport(
      JSON.stringify({
        auditReportVersion: 2,
        vulnerabilities: {
          minimist: {
            name: 'minimist',
            severity: 'critical',
            range: '<1.2.6',
            fixAvailable: true,
            via: [{ url: 'https://example.com/GHSA-1' }],
          },
          debug: { name: 'debug', severity: 'low', range: '<2.6.9', fixAvailable: false, via: [] },
        },
      }),
    );
    assert.equal(result.kind, 'answered');
    if (result.kind !== 'answered') return;
    assert.deepEqual(
      atOrAbove(result.findings, 'high').map((f) => [f.name, f.advisories]),
      [['minimist', ['https://example.com/GHSA-1']]],
    );
    assert.equal(atOrAbove(result.findings, 'low').length, 2);
  });

  it('says the service did not answer instead of passing', () => {
    const result = parseAuditReport(
      JSON.stringify({ message: '405 Method Not Allowed', error: { summary: '', detail: '' } }),
    );
    assert.deepEqual(result, { kind: 'unanswered', message: '405 Method Not Allowed' });
    assert.equal(parseAuditReport('npm error').kind, 'unanswered');
  });
});

describe('image scan gate', () => {
  const report = {
    Results: [
      {
        Target: 'flotilla/user-service (alpine 3.22)',
        Vulnerabilities: [
          {
            VulnerabilityID: 'CVE-1',
            PkgName: 'libssl3',
            InstalledVersion: '3.5.0-r0',
            FixedVersion: '3.5.1-r0',
            Severity: 'CRITICAL',
          },
          {
            VulnerabilityID: 'CVE-2',
            PkgName: 'busybox',
            InstalledVersion: '1.37.0-r18',
            FixedVersion: '',
            Severity: 'HIGH',
          },
          {
            VulnerabilityID: 'CVE-3',
            PkgName: 'zlib',
            InstalledVersion: '1.3.1-r2',
            FixedVersion: '1.3.2-r0',
            Severity: 'MEDIUM',
          },
        ],
      },
      { Target: 'Node.js', Vulnerabilities: [] },
    ],
  };

  it('fails on fixable findings at or above the level', () => {
    const all = vulnerabilitiesOf(report);
    assert.equal(all.length, 3);
    assert.deepEqual(
      gate(all, 'HIGH').map((v) => v.id),
      ['CVE-1'],
    );
    assert.deepEqual(
      gate(all, 'HIGH', true).map((v) => v.id),
      ['CVE-1', 'CVE-2'],
    );
    assert.deepEqual(
      gate(all, 'MEDIUM').map((v) => v.id),
      ['CVE-1', 'CVE-3'],
    );
    assert.deepEqual(
      gate(all, 'CRITICAL').map((v) => v.id),
      ['CVE-1'],
    );
  });

  it('passes an image with nothing at the level', () => {
    assert.deepEqual(gate(vulnerabilitiesOf({ Results: [{ Target: 'x' }] }), 'LOW'), []);
  });

  it('runs trivy from PATH, else its pinned image on the engine, else not at all', () => {
    const args = ['image', 'flotilla/gateway:abc'];
    assert.deepEqual(trivyCommand(args, { trivy: true, docker: true }), ['trivy', ...args]);
    const docker = trivyCommand(args, { trivy: false, docker: true })!;
    assert.deepEqual(docker.slice(0, 3), ['docker', 'run', '--rm']);
    assert.ok(docker.includes('/var/run/docker.sock:/var/run/docker.sock'));
    assert.deepEqual(docker.slice(-3), [TRIVY_IMAGE, ...args]);
    assert.match(TRIVY_IMAGE, /^aquasec\/trivy:\d+\.\d+\.\d+$/);
    assert.equal(trivyCommand(args, { trivy: false, docker: false }), undefined);
  });

  it('reads the app, the level, --include-unfixed and TRIVY_IMAGE', () => {
    assert.deepEqual(parseScanArgs(['gateway'], {}), {
      app: 'gateway',
      level: 'HIGH',
      includeUnfixed: false,
      trivyImage: TRIVY_IMAGE,
    });
    assert.deepEqual(
      parseScanArgs(['user-service', '--level', 'critical', '--include-unfixed'], {
        TRIVY_IMAGE: 'mirror.example.com/trivy:1.2.3',
      }),
      {
        app: 'user-service',
        level: 'CRITICAL',
        includeUnfixed: true,
        trivyImage: 'mirror.example.com/trivy:1.2.3',
      },
    );
    assert.equal(parseScanArgs(['gateway'], { TRIVY_IMAGE: '' }).trivyImage, TRIVY_IMAGE);
  });

  it('refuses a level it does not know, an unknown option and a second app', () => {
    assert.throws(
      () => parseScanArgs(['gateway', '--level', 'SEVERE'], {}),
      /--level is one of .*"SEVERE"/,
    );
    assert.throws(() => parseScanArgs(['gateway', '--levle', 'HIGH'], {}), /--levle/);
    assert.throws(() => parseScanArgs(['gateway', 'user-service'], {}), /one app at a time/);
  });
});

describe('coverage report', () => {
  it('is where sonar-project.properties reads it, and Sonar reads folders that exist', () => {
    const root = resolve(import.meta.dirname, '../../..');
    const properties = Object.fromEntries(
      readFileSync(join(root, 'sonar-project.properties'), 'utf8')
        .split('\n')
        .filter((line) => /^sonar\.[\w.]+=/.test(line))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    assert.equal(properties['sonar.javascript.lcov.reportPaths'], LCOV_REPORT);
    for (const key of ['sonar.sources', 'sonar.tests']) {
      for (const dir of properties[key]!.split(','))
        assert.ok(existsSync(join(root, dir)), `${key}: ${dir}`);
    }
  });

  it('makes source paths relative to the repository root', () => {
    const lcov = 'TN:\nSF:src/config.ts\nDA:1,1\nend_of_record\nSF:/abs/x.ts\nend_of_record\n';
    assert.equal(
      rebaseLcov(lcov, 'libs/config'),
      'TN:\nSF:libs/config/src/config.ts\nDA:1,1\nend_of_record\nSF:/abs/x.ts\nend_of_record\n',
    );
  });
});

describe('registry and digest', () => {
  it('logs in to the host of the image repository, or Docker Hub', () => {
    assert.equal(registryHost('registry.example.com/acme/gateway'), 'registry.example.com');
    assert.equal(registryHost('localhost:5000/gateway'), 'localhost:5000');
    assert.equal(registryHost('acme/gateway'), undefined);
    assert.equal(registryHost('flotilla/gateway'), undefined);
  });

  it('logs in with both registry credentials, pushes as is with neither, refuses one alone', () => {
    assert.deepEqual(registryLogin({ REGISTRY_USER: 'ci', REGISTRY_PASSWORD: 's3cret' }), {
      user: 'ci',
      password: 's3cret',
    });
    assert.equal(registryLogin({}), undefined);
    assert.equal(registryLogin({ REGISTRY_USER: '', REGISTRY_PASSWORD: '' }), undefined);
    assert.throws(() => registryLogin({ REGISTRY_USER: 'ci' }), /only REGISTRY_USER is set/);
    assert.throws(() => registryLogin({ REGISTRY_PASSWORD: 's3cret' }), /only REGISTRY_PASSWORD/);
  });

  it('records the digest the registry gave the pushed repository', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    const other = `sha256:${'b'.repeat(64)}`;
    assert.equal(
      digestFor(
        [`mirror.example.com/acme/gateway@${other}`, `registry.example.com/acme/gateway@${digest}`],
        'registry.example.com/acme/gateway',
      ),
      digest,
    );
    assert.equal(digestFor([`docker.io/acme/gateway@${digest}`], 'acme/gateway'), digest);
    assert.equal(digestFor([], 'acme/gateway'), undefined);
    assert.equal(digestFor(['acme/gateway@sha256:short'], 'acme/gateway'), undefined);
  });
});
