import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createPasswordHasher } from './passwords.ts';

const hasher = createPasswordHasher();

describe('password hashing', () => {
  it('verifies the password it hashed', async () => {
    const stored = await hasher.hash('correct horse battery staple');
    assert.equal(await hasher.verify('correct horse battery staple', stored), true);
  });

  it('rejects a different password', async () => {
    const stored = await hasher.hash('correct horse battery staple');
    assert.equal(await hasher.verify('correct horse battery stapler', stored), false);
  });

  it('stores a PHC string with the parameters and a random salt, never the password', async () => {
    const first = await hasher.hash('s3cret-password');
    const second = await hasher.hash('s3cret-password');
    assert.match(
      first,
      /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/,
    );
    assert.notEqual(first, second);
    assert.ok(!first.includes('s3cret-password'));
  });

  it('verifies hashes made with other parameters, so the cost can be raised later', async () => {
    const stronger = createPasswordHasher({ memoryKiB: 32_768, passes: 3, parallelism: 1 });
    const stored = await stronger.hash('a long passphrase');
    assert.match(stored, /m=32768,t=3,p=1/);
    assert.equal(await hasher.verify('a long passphrase', stored), true);
  });

  it('treats canonically equal unicode passwords as equal', async () => {
    const composed = 'caf\u00e9 au lait';
    const decomposed = 'cafe\u0301 au lait';
    const stored = await hasher.hash(composed);
    assert.equal(await hasher.verify(decomposed, stored), true);
  });

  it('refuses a malformed stored hash instead of throwing', async () => {
    assert.equal(await hasher.verify('anything', 'plaintext-not-a-hash'), false);
    assert.equal(await hasher.verify('anything', '$argon2id$v=19$m=19456,t=2,p=1$$'), false);
  });
});
