import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { packageOf, summarize, type CpuProfile } from './profile-summary.ts';

const frame = (functionName: string, url = '') => ({ functionName, url, lineNumber: 0 });

describe('packageOf', () => {
  it('names the package of a script in node_modules, scoped or not', () => {
    assert.equal(packageOf('file:///w/node_modules/express/lib/router.js'), 'express');
    assert.equal(packageOf('file:///w/node_modules/@pinojs/redact/index.js'), '@pinojs/redact');
  });

  it("names Node's own modules and the workspace's libs", () => {
    assert.equal(packageOf('node:internal/http'), 'node:internal');
    assert.equal(packageOf('file:///w/libs/http/src/app.ts'), 'libs/http');
  });
});

describe('summarize', () => {
  // root -> handler (express) -> log (pino); samples: idle, handler, log, log
  const profile: CpuProfile = {
    nodes: [
      { id: 1, callFrame: frame('(root)'), children: [2, 4] },
      { id: 2, callFrame: frame('handle', 'file:///w/node_modules/express/a.js'), children: [3] },
      { id: 3, callFrame: frame('write', 'file:///w/node_modules/pino/b.js') },
      { id: 4, callFrame: frame('(idle)') },
    ],
    samples: [4, 2, 3, 3],
    timeDeltas: [5000, 1000, 1000, 1000],
  };

  it('leaves idle time out of the busy total', () => {
    assert.equal(summarize(profile).totalMs, 3);
  });

  it('counts self time and time with callees per function and package', () => {
    const summary = summarize(profile);
    const handle = summary.functions.find((f) => f.name.startsWith('handle '));
    const express = summary.packages.find((p) => p.name === 'express');
    const pino = summary.packages.find((p) => p.name === 'pino');

    assert.deepEqual([handle?.selfMs, handle?.totalMs], [1, 3]);
    assert.deepEqual([express?.selfMs, express?.totalMs], [1, 3]);
    assert.deepEqual([pino?.selfMs, pino?.totalMs], [2, 2]);
  });
});
