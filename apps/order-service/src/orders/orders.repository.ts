import type { Pool, PoolClient } from '@flotilla/db';
import type { OrderView } from './orders.schemas.ts';

type Queryable = Pool | PoolClient;
type Status = OrderView['status'];

export interface OrderRow {
  id: string;
  user_id: string;
  idempotency_key: string;
  fingerprint: string;
  items: OrderView['items'];
  total: string;
  currency: string;
  card_token: string;
  status: Status;
  payment_id: string | null;
  failure_reason: string | null;
  refunded: boolean;
  created_at: Date;
  updated_at: Date;
}

/** A row of a listing, with created_at in microseconds since the epoch, exact (a Date keeps milliseconds only). */
export type ListedOrderRow = OrderRow & { created_us: string };

export function toView(row: OrderRow): OrderView {
  return {
    id: row.id,
    userId: row.user_id,
    items: row.items,
    total: Number(row.total),
    currency: row.currency,
    status: row.status,
    paymentId: row.payment_id,
    failureReason: row.failure_reason,
    refunded: row.refunded,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** SQL for orders. Status changes name the status they expect, so a stale writer changes nothing. */
export const ordersRepository = {
  /** Inserts a pending order, or returns the one already stored for this user and key. */
  async insertOnce(
    db: Queryable,
    order: {
      userId: string;
      idempotencyKey: string;
      fingerprint: string;
      items: OrderView['items'];
      total: number;
      currency: string;
      cardToken: string;
      leaseMs: number;
    },
  ): Promise<{ row: OrderRow; created: boolean }> {
    const inserted = await db.query<OrderRow>(
      `INSERT INTO orders (user_id, idempotency_key, fingerprint, items, total, currency, card_token, next_attempt_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, now() + make_interval(secs => $8))
       ON CONFLICT ON CONSTRAINT orders_idempotency_key DO NOTHING
       RETURNING *`,
      [
        order.userId,
        order.idempotencyKey,
        order.fingerprint,
        JSON.stringify(order.items),
        order.total,
        order.currency,
        order.cardToken,
        order.leaseMs / 1000,
      ],
    );
    if (inserted.rows[0]) return { row: inserted.rows[0], created: true };
    const { rows } = await db.query<OrderRow>(
      'SELECT * FROM orders WHERE user_id = $1 AND idempotency_key = $2',
      [order.userId, order.idempotencyKey],
    );
    return { row: rows[0] as OrderRow, created: false };
  },

  async findById(db: Queryable, id: string): Promise<OrderRow | undefined> {
    const { rows } = await db.query<OrderRow>('SELECT * FROM orders WHERE id = $1', [id]);
    return rows[0];
  },

  /** Newest first, after the (created_at in microseconds, id) of the cursor. */
  async listByUser(
    db: Queryable,
    userId: string,
    limit: number,
    after?: { createdUs: string; id: string },
  ): Promise<ListedOrderRow[]> {
    const columns = `*, (EXTRACT(EPOCH FROM created_at) * 1000000)::bigint::text AS created_us`;
    const { rows } = after
      ? await db.query<ListedOrderRow>(
          `SELECT ${columns} FROM orders
            WHERE user_id = $1
              AND (created_at, id) < (timestamptz 'epoch' + $2::bigint * interval '1 microsecond', $3::uuid)
            ORDER BY created_at DESC, id DESC LIMIT $4`,
          [userId, after.createdUs, after.id, limit],
        )
      : await db.query<ListedOrderRow>(
          `SELECT ${columns} FROM orders WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`,
          [userId, limit],
        );
    return rows;
  },

  async transition(
    db: Queryable,
    id: string,
    from: Status,
    to: Status,
    fields: { paymentId?: string; failureReason?: string; refunded?: boolean } = {},
  ): Promise<OrderRow | undefined> {
    const { rows } = await db.query<OrderRow>(
      `UPDATE orders SET status = $3,
              payment_id = COALESCE($4, payment_id),
              failure_reason = COALESCE($5, failure_reason),
              refunded = COALESCE($6, refunded)
        WHERE id = $1 AND status = $2
    RETURNING *`,
      [
        id,
        from,
        to,
        fields.paymentId ?? null,
        fields.failureReason ?? null,
        fields.refunded ?? null,
      ],
    );
    return rows[0];
  },

  /** Pushes the next payment attempt of a pending order back. */
  async reschedule(db: Queryable, id: string, delayMs: number): Promise<void> {
    await db.query(
      "UPDATE orders SET next_attempt_at = now() + make_interval(secs => $2), updated_at = now() WHERE id = $1 AND status = 'pending'",
      [id, delayMs / 1000],
    );
  },

  /**
   * Claims due pending orders for one recovery round: their lease moves forward so no other
   * replica (or the request that created them) works on them at the same time.
   */
  async claimDue(db: Queryable, leaseMs: number, limit: number): Promise<OrderRow[]> {
    const { rows } = await db.query<OrderRow>(
      `UPDATE orders SET next_attempt_at = now() + make_interval(secs => $1), attempts = attempts + 1
        WHERE id IN (SELECT id FROM orders WHERE status = 'pending' AND next_attempt_at <= now()
                      ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED)
    RETURNING *`,
      [leaseMs / 1000, limit],
    );
    return rows;
  },
};
