import { z } from 'zod';

const ISO_4217 = new Set(Intl.supportedValuesOf('currency'));
const MAX_TOTAL = 1_000_000_000_000;

export const orderItem = z.strictObject({
  sku: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, dot, dash or underscore'),
  quantity: z.number().int().min(1).max(1000),
  /** Minor units (cents). */
  unitPrice: z.number().int().min(1).max(MAX_TOTAL),
});

export const createOrderBody = z
  .strictObject({
    items: z.array(orderItem).min(1).max(100),
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/, 'an ISO 4217 code in upper case, e.g. EUR')
      .refine((code) => ISO_4217.has(code), 'not an ISO 4217 currency'),
    cardToken: z.string().regex(/^tok_[a-z0-9_]{1,64}$/, 'a card token such as tok_visa'),
  })
  .refine((order) => orderTotal(order.items) <= MAX_TOTAL, {
    message: `the total must not exceed ${MAX_TOTAL} minor units`,
    path: ['items'],
  });
export type CreateOrderInput = z.infer<typeof createOrderBody>;

/** The total in minor units: integers only, so no rounding ever happens. */
export function orderTotal(items: readonly { quantity: number; unitPrice: number }[]): number {
  return items.reduce((sum, item) => sum + item.quantity * item.unitPrice, 0);
}

export const orderIdParams = z.object({ id: z.uuid() });

export const listQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
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

export const orderPage = z.object({ items: z.array(orderView), nextCursor: z.string().nullable() });
