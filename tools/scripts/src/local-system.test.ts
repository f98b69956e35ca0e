import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { localSystemStore, type SystemState } from './local-system.ts';

const root = mkdtempSync(join(tmpdir(), 'flotilla-local-system-'));
after(() => rmSync(root, { recursive: true, force: true }));

let stores = 0;
const newStore = () => localSystemStore(join(root, `state-${++stores}`));

const SYSTEM: SystemState = {
  pid: 4242,
  startedAt: '2026-12-07T21:00:00.000Z',
  workspace: '/work/flotilla',
  adminToken: 'local-admin-token-0123456789abcdef0123',
  infrastructure: {
    databaseUrl: 'postgres://flotilla@127.0.0.1:5432/flotilla',
    redisUrl: 'redis://127.0.0.1:6379',
  },
  gateway: { url: 'http://127.0.0.1:3000' },
  supervisor: { url: 'http://127.0.0.1:39999' },
};

describe('local system state files', () => {
  it('writes each file with its state version and reads it back as it was written', () => {
    const store = newStore();

    store.writeSystem(SYSTEM);
    store.writeService({ name: 'order-service', env: { PORT: '3002' }, instances: [] });

    const file = JSON.parse(readFileSync(join(store.dir, 'system.json'), 'utf8'));
    assert.equal(file.stateVersion, 2);
    assert.deepEqual(store.readSystem(), { ...SYSTEM });
    assert.deepEqual(store.readService('order-service'), {
      name: 'order-service',
      env: { PORT: '3002' },
      instances: [],
    });
  });

  it('has no state where no file is', () => {
    const store = newStore();

    assert.equal(store.readSystem(), undefined);
    assert.equal(store.readService('order-service'), undefined);
    assert.deepEqual(store.services(), []);
  });

  it('refuses a state file of another state version with a message naming the file and what to do', () => {
    const store = newStore();
    mkdirSync(store.dir, { recursive: true });
    const file = join(store.dir, 'system.json');
    writeFileSync(file, JSON.stringify({ ...SYSTEM, stateVersion: 3 }));

    assert.throws(
      () => store.readSystem(),
      (err: Error) => {
        assert.ok(err.message.startsWith(`${file} was written by another version of Flotilla`));
        assert.match(err.message, /state version 3, this one reads 2/);
        assert.match(err.message, /stop the system it belongs to with that version, or remove/);
        return true;
      },
    );
  });

  it('refuses a service file from before state versions as version 1, naming the file', () => {
    const store = newStore();
    mkdirSync(join(store.dir, 'services'), { recursive: true });
    const file = join(store.dir, 'services', 'order-service.json');
    writeFileSync(file, JSON.stringify({ name: 'order-service', env: {}, instances: [] }));

    assert.throws(() => store.readService('order-service'), {
      message: new RegExp(`^${file}.*state version 1, this one reads 2`),
    });
    assert.throws(() => store.services(), { message: new RegExp(`^${file}`) });
  });

  it('refuses a file of this version that does not fit the schema, naming the field', () => {
    const store = newStore();
    mkdirSync(store.dir, { recursive: true });
    const file = join(store.dir, 'system.json');
    writeFileSync(file, JSON.stringify({ ...SYSTEM, stateVersion: 2, pid: 'four' }));

    assert.throws(() => store.readSystem(), {
      message: new RegExp(`^${file} is not valid state: pid: `),
    });
  });
});
