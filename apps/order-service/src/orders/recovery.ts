import { AppError } from '@flotilla/http';
import type { Pool } from '@flotilla/db';
import type { Logger } from '@flotilla/logging';
import { ordersRepository as repo, type OrderRow } from './orders.repository.ts';

export interface RecoveryOptions {
  db: Pool;
  settle: (order: OrderRow) => Promise<OrderRow>;
  logger: Logger;
  intervalMs: number;
  leaseMs: number;
  giveUpAfterMs: number;
  now?: () => number;
}

/**
 * The resumable payment job. A pending order whose lease has run out (the request that stored it
 * crashed, or payment-service was unreachable) is charged again with the same payment key, so it
 * is paid or failed exactly once. Orders still unresolved after `giveUpAfterMs` are cancelled.
 */
export function createRecovery({
  db,
  settle,
  logger,
  intervalMs,
  leaseMs,
  giveUpAfterMs,
  now = Date.now,
}: RecoveryOptions) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;

  async function resume(order: OrderRow): Promise<void> {
    try {
      const settled = await settle(order);
      logger.info({ orderId: order.id, status: settled.status }, 'pending order resumed');
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== 'PAYMENT_UNAVAILABLE') throw err;
      if (now() - order.created_at.getTime() >= giveUpAfterMs) {
        await repo.transition(db, order.id, 'pending', 'cancelled', {
          failureReason: 'payment_unresolved',
        });
        logger.warn({ orderId: order.id }, 'pending order cancelled: payment stayed unreachable');
      }
    }
  }

  /** One round: claims due orders and resumes each. Returns how many were claimed. */
  async function runOnce(): Promise<number> {
    const due = await repo.claimDue(db, leaseMs, 20);
    for (const order of due) {
      await resume(order).catch((err: unknown) =>
        logger.error({ err, orderId: order.id }, 'resuming an order failed'),
      );
    }
    return due.length;
  }

  return {
    runOnce,
    start() {
      timer = setInterval(() => {
        running ??= runOnce()
          .catch((err: unknown) => {
            logger.error({ err }, 'recovery round failed');
            return 0;
          })
          .finally(() => {
            running = undefined;
          });
      }, intervalMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
