import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { freePort } from '@flotilla/testing';

const PROXY = fileURLToPath(new URL('./proxy.ts', import.meta.url));

interface Seen {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingHttpHeaders;
  body: string;
}

let upstream: Server;
let upstreamUrl: string;
const seen: Seen[] = [];

async function startProxy(target: string): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, [PROXY, String(port), target, '2'], { stdio: 'inherit' });
  const url = `http://127.0.0.1:${port}`;
  for (let waited = 0; waited < 10_000; waited += 50) {
    const up = await fetch(`${url}/health`).then(
      (res) => res.ok,
      () => false,
    );
    if (up) return { url, child };
    await sleep(50);
  }
  child.kill();
  throw new Error('the proxy did not start');
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

before(async () => {
  upstream = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body });
      res.writeHead(201, { 'content-type': 'application/json', 'x-upstream': 'yes' });
      res.end(JSON.stringify({ ok: true }));
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});
after(async () => {
  upstream.closeAllConnections();
  await new Promise((resolve) => upstream.close(resolve));
});

describe('the bare Node proxy of the benchmark', () => {
  it('sends /api/<path> on as /<path> with the end-to-end headers, and the answer back', async () => {
    const { url, child } = await startProxy(upstreamUrl);
    try {
      const res = await fetch(`${url}/api/users/me?full=1`, {
        method: 'POST',
        headers: { authorization: 'Bearer t', 'content-type': 'text/plain', te: 'trailers' },
        body: 'hello',
      });

      assert.equal(res.status, 201);
      assert.equal(res.headers.get('x-upstream'), 'yes');
      assert.deepEqual(await res.json(), { ok: true });
      const request = seen.at(-1);
      assert.equal(request?.method, 'POST');
      assert.equal(request?.url, '/users/me?full=1');
      assert.equal(request?.body, 'hello');
      assert.equal(request?.headers.authorization, 'Bearer t');
      assert.equal(request?.headers['x-forwarded-for'], '127.0.0.1');
      assert.equal(request?.headers.te, undefined, 'a hop-by-hop header was forwarded');
    } finally {
      await stop(child);
    }
  });

  it('answers 404 outside /api/, and 502 when the upstream is down', async () => {
    const { url, child } = await startProxy(`http://127.0.0.1:${await freePort()}`);
    try {
      assert.equal((await fetch(`${url}/elsewhere`)).status, 404);
      assert.equal((await fetch(`${url}/api/users/me`)).status, 502);
    } finally {
      await stop(child);
    }
  });
});
