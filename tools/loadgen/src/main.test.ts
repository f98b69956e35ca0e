import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { closedPort, startFakeGateway, type FakeGateway } from './testing/fake-gateway.ts';

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

/** The environment of the test run without LOADGEN_* settings, plus the given ones. */
function envWith(vars: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('LOADGEN_')),
  );
  return { ...env, ...vars };
}

/** Runs the CLI as a real process; kills it if it outlives the limit. */
function cli(args: string[], env: NodeJS.ProcessEnv = envWith()) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ['src/main.ts', ...args], { cwd: PACKAGE_DIR, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const limit = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(limit);
      resolve({ code, stdout, stderr });
    });
  });
}

const gateways: FakeGateway[] = [];
after(async () => {
  while (gateways.length > 0) await gateways.pop()?.close();
});

describe('loadgen CLI', () => {
  it('exits 1 and says FAIL when the success rate falls under --min-success', async () => {
    let orders = 0;
    const gw = await startFakeGateway({
      // Every other order fails: 50% success, far below 99%.
      placeOrder: (order) =>
        ++orders % 2 === 0
          ? { status: 500, body: {} }
          : { status: 201, body: { status: order.cardToken === 'tok_visa' ? 'paid' : 'x' } },
    });
    gateways.push(gw);

    const { code, stdout, stderr } = await cli(
      ['--target', gw.url, '--rate', '20', '--duration', '1s', '--mix', 'visa=1'],
      envWith({ LOADGEN_USERS: '2', LOADGEN_MIN_SUCCESS: '99' }),
    );

    assert.equal(code, 1, stderr);
    assert.match(stdout, /2\/2 users ready; 20 req\/s for 1s \(20 iterations\)/);
    assert.match(stdout, /result {4}FAIL {2}success 50\.00% \(10 of 20\) < 99%/);
    assert.match(stdout, /failures {2}visa: 500 x 10/);
  });

  it('exits 0 and prints the report as one JSON line on stdout with --json', async () => {
    const gw = await startFakeGateway();
    gateways.push(gw);

    const { code, stdout, stderr } = await cli([
      '--target',
      gw.url,
      '--rate',
      '20',
      '--duration',
      '500ms',
      '--users',
      '1',
      '--json',
    ]);

    assert.equal(code, 0, stderr);
    const lines = stdout.trimEnd().split('\n');
    assert.equal(lines.length, 1, stdout);
    const report = JSON.parse(lines[0] ?? '');
    assert.equal(report.passed, true);
    assert.equal(report.requests.completed, 10);
    assert.match(stderr, /users ready/, 'the live view goes to stderr');
  });

  it('exits 2 with a message naming the flag for an invalid value, before any request', async () => {
    const { code, stdout, stderr } = await cli([
      '--rate',
      'fast',
      '--target',
      'http://127.0.0.1:9',
    ]);

    assert.equal(code, 2);
    assert.equal(stdout, '');
    assert.match(stderr, /^loadgen: --rate: "fast" is not a number$/m);
    assert.match(stderr, /run with --help/);
  });

  it('exits 2 for an unknown flag and for a bad LOADGEN_* variable', async () => {
    const unknown = await cli(['--rps', '20']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /loadgen: unknown flag --rps/);

    const badEnv = await cli([], envWith({ LOADGEN_DURATION: 'forever' }));
    assert.equal(badEnv.code, 2);
    assert.match(badEnv.stderr, /loadgen: LOADGEN_DURATION: "forever" is not a duration/);
  });

  it('exits 1 with what to check when the gateway cannot be reached', async () => {
    const port = await closedPort();
    const { code, stderr } = await cli(['--target', `http://127.0.0.1:${port}`, '--users', '1']);

    assert.equal(code, 1);
    assert.match(
      stderr,
      new RegExp(`no user could register and log in at http://127.0.0.1:${port} .*npm start`),
    );
  });

  it('prints the help and exits 0', async () => {
    const { code, stdout } = await cli(['--help']);
    assert.equal(code, 0);
    assert.match(stdout, /^Usage: node tools\/loadgen\/src\/main\.ts \[flags\]/);
  });
});
