import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { engineAnswers, engineCacheDir, ownEngineHost, parseExports } from './engine.ts';

describe('parseExports', () => {
  it('takes the export lines a script prints and nothing else', () => {
    const out = [
      'export DOCKER_HOST=unix:///root/.cache/flotilla-docker/docker.sock',
      'engine up',
      '  export NODE_IMAGE=localhost/node:24.22.3-bookworm',
      'export =broken',
      'exported NOTHING=1',
    ].join('\n');
    assert.deepEqual(parseExports(out), {
      DOCKER_HOST: 'unix:///root/.cache/flotilla-docker/docker.sock',
      NODE_IMAGE: 'localhost/node:24.22.3-bookworm',
    });
  });
});

describe('the engine cache dir', () => {
  it('is FLOTILLA_DOCKER_CACHE, else flotilla-docker in the XDG or home cache', () => {
    assert.equal(engineCacheDir({ FLOTILLA_DOCKER_CACHE: '/srv/engine' }), '/srv/engine');
    assert.equal(engineCacheDir({ XDG_CACHE_HOME: '/c', HOME: '/h' }), '/c/flotilla-docker');
    assert.equal(engineCacheDir({ HOME: '/h' }), '/h/.cache/flotilla-docker');
    assert.equal(ownEngineHost({ HOME: '/h' }), 'unix:///h/.cache/flotilla-docker/docker.sock');
  });
});

describe('engineAnswers', () => {
  it('says no for a socket where no engine listens', async () => {
    const env = { ...process.env, DOCKER_HOST: 'unix:///nonexistent/docker.sock' };
    assert.equal(await engineAnswers(env), false);
  });
});
