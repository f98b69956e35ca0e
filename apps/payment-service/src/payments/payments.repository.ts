import type { Pool, PoolClient } from '@flotilla/db';
import type { PaymentView } from './payments.schemas.ts';

interface PaymentRow {
  id: string;
  order_id: string;
  user_id: string;
  amount: string;
  currency: string;
  status: 'captured' | 'declined';
  decline_reason: string | null;
  refunded_amount: string;
  created_at: Date;
}

interface RefundRow {
  id: string;
  payment_id: string;
  amount: string;
  created_at: Date;
}

type Queryable = Pool | PoolClient;

const toRefund = (row: RefundRow) => ({
  id: row.id,
  paymentId: row.payment_id,
  amount: Number(row.amount),
  createdAt: row.created_at.toISOString(),
});

function toView(row: PaymentRow, refunds: RefundRow[]): PaymentView {
  return {
    id: row.id,
    orderId: row.order_id,
    userId: row.user_id,
    amount: Number(row.amount),
    currency: row.currency,
    status: row.status,
    declineReason: row.decline_reason,
    refundedAmount: Number(row.refunded_amount),
    refunds: refunds.map(toRefund),
    createdAt: row.created_at.toISOString(),
  };
}

/** SQL for payments and refunds. Amounts are bigint in the database and safe integers here. */
export const paymentsRepository = {
  async insert(
    db: Queryable,
    payment: {
      orderId: string;
      userId: string;
      amount: number;
      currency: string;
      status: 'captured' | 'declined';
      declineReason?: string;
    },
  ): Promise<PaymentView> {
    const { rows } = await db.query<PaymentRow>(
      `INSERT INTO payments (order_id, user_id, amount, currency, status, decline_reason)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
      [
        payment.orderId,
        payment.userId,
        payment.amount,
        payment.currency,
        payment.status,
        payment.declineReason ?? null,
      ],
    );
    return toView(rows[0] as PaymentRow, []);
  },

  async findById(db: Queryable, id: string): Promise<PaymentView | undefined> {
    const { rows } = await db.query<PaymentRow>('SELECT * FROM payments WHERE id = $1', [id]);
    if (!rows[0]) return undefined;
    const refunds = await db.query<RefundRow>(
      'SELECT * FROM refunds WHERE payment_id = $1 ORDER BY created_at, id',
      [id],
    );
    return toView(rows[0], refunds.rows);
  },

  async findByOrder(db: Queryable, orderId: string): Promise<PaymentView[]> {
    const { rows } = await db.query<PaymentRow>(
      'SELECT * FROM payments WHERE order_id = $1 ORDER BY created_at DESC',
      [orderId],
    );
    return Promise.all(
      rows.map(async (row) => (await paymentsRepository.findById(db, row.id)) ?? toView(row, [])),
    );
  },

  /**
   * Adds a refund. The row update takes the payment's row lock, so concurrent refunds are applied
   * one after another, and the CHECK constraints refuse any that would exceed the captured amount.
   */
  async addRefund(db: Queryable, paymentId: string, amount: number) {
    const updated = await db.query(
      'UPDATE payments SET refunded_amount = refunded_amount + $2, updated_at = now() WHERE id = $1 RETURNING id',
      [paymentId, amount],
    );
    if (updated.rowCount === 0) return undefined;
    const { rows } = await db.query<RefundRow>(
      'INSERT INTO refunds (payment_id, amount) VALUES ($1, $2) RETURNING *',
      [paymentId, amount],
    );
    return toRefund(rows[0] as RefundRow);
  },
};
