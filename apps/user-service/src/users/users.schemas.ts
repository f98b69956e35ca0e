import { z } from 'zod';

// Control characters (NUL above all) are refused: PostgreSQL cannot store NUL in text, and
// none of them belongs in a name.
const printable = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .regex(/^[^\p{Cc}]*$/u, 'must not contain control characters');

const email = z.string().trim().max(254).pipe(z.email());
// Length limits keep a hash request bounded; no composition rules (NIST SP 800-63B).
const password = z.string().min(8).max(256);

export const registerBody = z.strictObject({ email, password, name: printable(200) });
export type RegisterInput = z.infer<typeof registerBody>;

export const loginBody = z.strictObject({
  email: z.string().max(254),
  password: z.string().max(256),
});
export type LoginInput = z.infer<typeof loginBody>;

export const updateBody = z
  .strictObject({
    name: printable(200).optional(),
    currentPassword: z.string().max(256).optional(),
    newPassword: password.optional(),
  })
  .refine((body) => body.name !== undefined || body.newPassword !== undefined, {
    message: 'give a name or a newPassword',
  })
  .refine((body) => body.newPassword === undefined || body.currentPassword !== undefined, {
    message: 'a newPassword needs the currentPassword',
    path: ['currentPassword'],
  });
export type UpdateInput = z.infer<typeof updateBody>;

export const userIdParams = z.object({ id: z.uuid() });

export const clientCredentialsBody = z.strictObject({
  grantType: z.literal('client_credentials'),
  clientId: z.string().min(1).max(64),
  clientSecret: z.string().min(1).max(256),
});

export const userView = z.object({
  id: z.uuid(),
  email: z.string(),
  name: z.string(),
  role: z.enum(['user', 'admin']),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});

export const tokenView = z.object({
  accessToken: z.string(),
  tokenType: z.literal('Bearer'),
  expiresIn: z.number().int(),
});
