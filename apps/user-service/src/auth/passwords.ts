import { argon2, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Password hashing with argon2id (RFC 9106), using Node's built-in implementation. The defaults
 * are OWASP's minimum for argon2id: 19 MiB of memory, 2 passes, 1 lane (about 90 ms on one core).
 * Hashes are PHC strings that carry their parameters, so the cost can be raised later and old
 * hashes still verify: `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<tag>` (unpadded base64).
 */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(password: string, stored: string): Promise<boolean>;
}

export interface Argon2Parameters {
  /** Memory in KiB. */
  memoryKiB: number;
  passes: number;
  parallelism: number;
}

export const DEFAULT_ARGON2: Argon2Parameters = { memoryKiB: 19_456, passes: 2, parallelism: 1 };

const TAG_LENGTH = 32;
const SALT_LENGTH = 16;
const PHC = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

function derive(password: string, salt: Buffer, params: Argon2Parameters): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    argon2(
      'argon2id',
      {
        // NFKC: the same password typed on two keyboards (composed or decomposed accents) matches.
        message: password.normalize('NFKC'),
        nonce: salt,
        memory: params.memoryKiB,
        passes: params.passes,
        parallelism: params.parallelism,
        tagLength: TAG_LENGTH,
      },
      (err, key) => (err ? reject(err) : resolve(key)),
    );
  });
}

const b64 = (buffer: Buffer) => buffer.toString('base64').replace(/=+$/, '');

export function createPasswordHasher(params: Argon2Parameters = DEFAULT_ARGON2): PasswordHasher {
  return {
    async hash(password) {
      const salt = randomBytes(SALT_LENGTH);
      const tag = await derive(password, salt, params);
      return `$argon2id$v=19$m=${params.memoryKiB},t=${params.passes},p=${params.parallelism}$${b64(salt)}$${b64(tag)}`;
    },
    async verify(password, stored) {
      const match = PHC.exec(stored);
      if (!match) return false;
      const [, m, t, p, salt, tag] = match;
      const expected = Buffer.from(tag ?? '', 'base64');
      const actual = await derive(password, Buffer.from(salt ?? '', 'base64'), {
        memoryKiB: Number(m),
        passes: Number(t),
        parallelism: Number(p),
      });
      return actual.length === expected.length && timingSafeEqual(actual, expected);
    },
  };
}
