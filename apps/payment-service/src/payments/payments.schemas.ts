import { z } from 'zod';

// ISO 4217 codes as this Node.js (ICU) knows them: the enum in the document is what is accepted.
const ISO_4217 = Intl.supportedValuesOf('currency') as [string, ...string[]];

/** ISO 4217 alphabetic code, upper case: `EUR`, `USD`, `JPY`. */
export const currency = z.enum(ISO_4217, 'an ISO 4217 code in upper case, e.g. EUR');

/** Money in minor units (cents): a positive safe integer, at most 10^12. */
export const minorUnits = z.number().int().positive().max(1_000_000_000_000);

export const createPaymentBody = z
  .strictObject({
    orderId: z.uuid(),
    amount: minorUnits,
    currency,
    cardToken: z.string().regex(/^tok_[a-z0-9_]{1,64}$/, 'a card token such as tok_visa'),
    /** Only services charging on behalf of a user name the user; users pay for themselves. */
    userId: z.string().min(1).max(64).optional(),
  })
  .meta({
    examples: [
      {
        orderId: '8c7e2a51-2f0c-4a7e-9d2b-1f0e6a0c9b11',
        amount: 900,
        currency: 'EUR',
        cardToken: 'tok_visa',
      },
    ],
  });
export type CreatePaymentInput = z.infer<typeof createPaymentBody>;

export const refundBody = z
  .strictObject({ amount: minorUnits })
  .meta({ examples: [{ amount: 450 }] });

export const paymentIdParams = z.object({ id: z.uuid() });

export const listQuery = z.strictObject({ orderId: z.uuid() });

export const idempotencyHeaders = z.object({
  'idempotency-key': z
    .string()
    .min(1)
    .max(255)
    .regex(/^[\x21-\x7e]+$/, 'visible ASCII characters'),
});

export const refundView = z.object({
  id: z.uuid(),
  paymentId: z.uuid(),
  amount: z.number().int(),
  createdAt: z.iso.datetime(),
});

export const paymentView = z.object({
  id: z.uuid(),
  orderId: z.uuid(),
  userId: z.string(),
  amount: z.number().int(),
  currency: z.string(),
  status: z.enum(['captured', 'declined']),
  declineReason: z.string().nullable(),
  refundedAmount: z.number().int(),
  refunds: z.array(refundView),
  createdAt: z.iso.datetime(),
});
export type PaymentView = z.infer<typeof paymentView>;
