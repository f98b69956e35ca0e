import { z } from 'zod';

// ISO 4217 codes as this Node.js (ICU) knows them: the enum in the document is what is accepted.
const ISO_4217 = Intl.supportedValuesOf('currency') as [string, ...string[]];
const MAX_QUANTITY = 1000;
const MAX_ITEMS = 100;
const MAX_UNIT_PRICE = 10_000_000;
// The bounds above keep every order's total within 10^12 minor units, payment-service's limit,
// so a total is never refused for its size alone and the document needs no rule JSON Schema
// cannot say.
export const MAX_TOTAL = MAX_ITEMS * MAX_QUANTITY * MAX_UNIT_PRICE;

export const orderItem = z.strictObject({
  sku: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, dot, dash or underscore'),
  quantity: z.number().int().min(1).max(MAX_QUANTITY),
  /** Minor units (cents). */
  unitPrice: z.number().int().min(1).max(MAX_UNIT_PRICE),
});

export const createOrderBody = z
  .strictObject({
    items: z.array(orderItem).min(1).max(MAX_ITEMS),
    currency: z.enum(ISO_4217, 'an ISO 4217 code in upper case, e.g. EUR'),
    cardToken: z.string().regex(/^tok_[a-z0-9_]{1,64}$/, 'a card token such as tok_visa'),
  })
  .meta({
    examples: [
      {
        items: [{ sku: 'TEA-1', quantity: 2, unitPrice: 450 }],
        currency: 'EUR',
        cardToken: 'tok_visa',
      },
    ],
  });
export type CreateOrderInput = z.infer<typeof createOrderBody>;

/** The total in minor units: integers only, so no rounding ever happens. */
export function orderTotal(items: readonly { quantity: number; unitPrice: number }[]): number {
  return items.reduce((sum, item) => sum + item.quantity * item.unitPrice, 0);
}

export const orderIdParams = z.object({ id: z.uuid() });

/**
 * Where a page ends: the last order's creation time in microseconds since the epoch and its id.
 * Any value of this shape is a valid position; an empty cursor is the first page.
 */
export const CURSOR =
  /^(|[0-9]{1,16}_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

export const listQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().regex(CURSOR, 'a nextCursor from an earlier page').optional(),
});

export const idempotencyHeaders = z.object({
  'idempotency-key': z
    .string()
    .min(1)
    .max(255)
    .regex(/^[\x21-\x7e]+$/, 'visible ASCII characters'),
});

export const ORDER_STATUSES = ['pending', 'paid', 'payment_failed', 'cancelled'] as const;

export const orderView = z.object({
  id: z.uuid(),
  userId: z.string(),
  items: z.array(orderItem),
  total: z.number().int(),
  currency: z.string(),
  status: z.enum(ORDER_STATUSES),
  paymentId: z.uuid().nullable(),
  failureReason: z.string().nullable(),
  refunded: z.boolean(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type OrderView = z.infer<typeof orderView>;

export const orderPage = z.object({
  items: z.array(orderView),
  nextCursor: z.string().regex(CURSOR).nullable(),
});
