import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const required = (
  JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    engines: { node: string };
  }
).engines.node.replace(/^>=\s*/, '');

const older = (version: string) => {
  const [major = 0, minor = 0] = version.replace(/^v/, '').split('.').map(Number);
  const [wantMajor = 0, wantMinor = 0] = required.split('.').map(Number);
  return major < wantMajor || (major === wantMajor && minor < wantMinor);
};

/**
 * A real Node.js binary older than the one the project needs: FLOTILLA_OLDER_NODE (which .ci/run
 * sets when the system Node is new enough), else the first older `node` on PATH, such as the
 * system's Node 20 behind the project's Node 24.
 */
function findOlderNode(): { node: string; version: string } {
  const candidates = [
    ...(process.env['FLOTILLA_OLDER_NODE'] ? [process.env['FLOTILLA_OLDER_NODE']] : []),
    ...(process.env['PATH'] ?? '').split(delimiter).map((dir) => join(dir, 'node')),
  ];
  for (const node of candidates) {
    if (!existsSync(node)) continue;
    const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
    if (older(version)) return { node, version };
  }
  throw new Error(
    `no Node.js older than ${required} found on PATH; set FLOTILLA_OLDER_NODE to one (.ci/run installs one)`,
  );
}

describe('an unsupported Node.js', () => {
  const { node, version } = findOlderNode();
  // npm runs scripts with the first `node` on PATH: put the older one first, as on a machine
  // that has only it.
  const env = { ...process.env, PATH: `${dirname(node)}${delimiter}${process.env['PATH'] ?? ''}` };
  const sentence = `Flotilla needs Node.js ${required} or newer, and this is ${version}: run \`nvm install\` here (it reads .nvmrc)`;
  let scratch: string;

  before(() => {
    // npm ci runs in a copy of the manifests, so that a broken guard could never touch this
    // workspace's node_modules.
    scratch = mkdtempSync(join(tmpdir(), 'flotilla-node-version-'));
    for (const file of ['package.json', 'package-lock.json', '.npmrc'])
      copyFileSync(join(ROOT, file), join(scratch, file));
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  const npm = (args: string[], cwd: string) =>
    spawnSync('npm', args, { cwd, env, encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' });

  for (const script of ['start', 'test']) {
    it(`npm ${script} stops at once with one sentence naming ${required} and .nvmrc`, () => {
      const started = performance.now();
      const run = npm([script], ROOT);
      assert.equal(run.status, 1, run.stderr);
      const lines = run.stderr.trim().split('\n');
      assert.equal(lines.length, 1, run.stderr);
      assert.ok(lines[0]?.startsWith(sentence), run.stderr);
      assert.ok(performance.now() - started < 30_000);
    });
  }

  it(`npm ci refuses it before installing anything, naming ${required}`, () => {
    const run = npm(['ci', '--no-audit', '--no-fund'], scratch);
    assert.notEqual(run.status, 0);
    assert.match(run.stderr, /EBADENGINE/);
    assert.ok(run.stderr.includes(`"node":">=${required}"`), run.stderr);
    assert.equal(existsSync(join(scratch, 'node_modules')), false, 'nothing was installed');
  });

  it(`the guard passes on this Node.js (${process.version})`, () => {
    const run = spawnSync(process.execPath, [join(ROOT, 'tools/scripts/src/node-version.mjs')], {
      encoding: 'utf8',
    });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stderr, '');
  });
});
