import { z } from 'zod';

// A name: no control characters (PostgreSQL cannot store NUL in text, and none belongs in a
// name) and no space at either end. Written as plain ECMA-262 escapes, without the `u` flag, so
// that JSON Schema tools in other languages can generate and check values with it.
const NAME =
  // eslint-disable-next-line no-control-regex -- control characters are exactly what it refuses
  /^[^ \u0000-\u001f\u007f-\u009f](?:[^\u0000-\u001f\u007f-\u009f]*[^ \u0000-\u001f\u007f-\u009f])?$/;
const name = z
  .string()
  .min(1)
  .max(200)
  .regex(NAME, 'no control characters, and no space at either end');

// An address as the document states it, a pattern rather than `format: email`, whose checks
// differ between JSON Schema tools: dot-separated atoms, then a domain with a letters-only TLD.
const EMAIL =
  /^[A-Za-z0-9_'+-]+(?:\.[A-Za-z0-9_'+-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/;
const email = z.string().max(254).regex(EMAIL, 'an email address');
// Length limits keep a hash request bounded; no composition rules (NIST SP 800-63B).
const password = z.string().min(8).max(256);

export const registerBody = z.strictObject({ email, password, name }).meta({
  examples: [{ email: 'ada@example.com', password: 'correct horse battery', name: 'Ada' }],
});
export type RegisterInput = z.infer<typeof registerBody>;

export const loginBody = z
  .strictObject({
    email: z.string().max(254),
    password: z.string().max(256),
  })
  .meta({ examples: [{ email: 'ada@example.com', password: 'correct horse battery' }] });
export type LoginInput = z.infer<typeof loginBody>;

export const updateBody = z
  .strictObject({
    name: name.optional(),
    currentPassword: z.string().max(256).optional(),
    newPassword: password.optional(),
  })
  .refine((body) => body.name !== undefined || body.newPassword !== undefined, {
    message: 'give a name or a newPassword',
  })
  .refine((body) => body.newPassword === undefined || body.currentPassword !== undefined, {
    message: 'a newPassword needs the currentPassword',
    path: ['currentPassword'],
  })
  // The two rules above, for the document: JSON Schema says them as anyOf and dependentRequired.
  .meta({
    examples: [{ name: 'Ada Lovelace' }],
    anyOf: [{ required: ['name'] }, { required: ['newPassword'] }],
    dependentRequired: { newPassword: ['currentPassword'] },
  });
export type UpdateInput = z.infer<typeof updateBody>;

export const userIdParams = z.object({ id: z.uuid() });

export const clientCredentialsBody = z.strictObject({
  grantType: z.literal('client_credentials'),
  clientId: z.string().min(1).max(64),
  clientSecret: z.string().min(1).max(256),
});

export const ROLES = ['user', 'admin'] as const;

export const userView = z.object({
  id: z.uuid(),
  email: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});

export const tokenView = z.object({
  accessToken: z.string(),
  tokenType: z.literal('Bearer'),
  expiresIn: z.number().int(),
});
