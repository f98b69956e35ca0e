import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { approvers } from './approved-by.ts';

// GitHub's run approvals API, as a local server: run 1 approved for production by two people,
// run 2 only rejected or approved for another environment, run 3 answers 500.
const APPROVALS: Record<string, unknown[]> = {
  '1': [
    { state: 'approved', user: { login: 'ada' }, environments: [{ name: 'production' }] },
    { state: 'approved', user: { login: 'grace' }, environments: [{ name: 'production' }] },
  ],
  '2': [
    { state: 'rejected', user: { login: 'ada' }, environments: [{ name: 'production' }] },
    { state: 'approved', user: { login: 'grace' }, environments: [{ name: 'staging' }] },
  ],
};
let server: Server;
let api = '';
before(async () => {
  server = createServer((req, res) => {
    const run = /^\/repos\/acme\/flotilla\/actions\/runs\/(\d+)\/approvals$/.exec(
      req.url ?? '',
    )?.[1];
    if (!run || !APPROVALS[run] || req.headers.authorization !== 'Bearer t0ken') {
      res.statusCode = run === '3' ? 500 : 404;
      res.end();
      return;
    }
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(APPROVALS[run]));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

const envFor = (run: string) => ({
  GITHUB_API_URL: api,
  GITHUB_REPOSITORY: 'acme/flotilla',
  GITHUB_RUN_ID: run,
  GITHUB_TOKEN: 't0ken',
});

describe('approvers', () => {
  it('lists who approved the environment in this run', async () => {
    assert.deepEqual(await approvers(envFor('1'), 'production'), ['ada', 'grace']);
  });

  it('ignores rejections and approvals of other environments', async () => {
    assert.deepEqual(await approvers(envFor('2'), 'production'), []);
  });
});

describe('approved-by.ts', () => {
  // Asynchronous, so that the API server in this process can answer meanwhile.
  const run = (runId: string, ...args: string[]) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['approved-by.ts', ...args], {
        cwd: import.meta.dirname,
        env: { ...process.env, ...envFor(runId) },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('close', (status) => resolve({ status, stdout, stderr }));
    });

  it('prints the approvers for the deploy kit', async () => {
    const result = await run('1', '--environment', 'production');
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, 'ada,grace\n');
  });

  it('exits 1 and says how to fix it when nobody approved', async () => {
    const result = await run('2', '--environment', 'production');
    assert.equal(result.status, 1);
    assert.match(result.stderr, /nobody approved the deployment to production.*require reviewers/);
  });

  it('exits 1 when the API fails, and 2 without an environment', async () => {
    assert.equal((await run('3', '--environment', 'production')).status, 1);
    assert.equal((await run('1')).status, 2);
  });
});
