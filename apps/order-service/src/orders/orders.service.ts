import type { Principal } from '@flotilla/auth';
import type { Pool } from '@flotilla/db';
import { UpstreamUnavailableError, type HttpClient } from '@flotilla/http-client';
import type { Logger } from '@flotilla/logging';
import type { Counter } from 'prom-client';
import { ensureUserExists, type ServiceTokenSource } from '../clients/upstreams.ts';
import { errors } from '../errors.ts';
import {
  ordersRepository as repo,
  toView,
  type ListedOrderRow,
  type OrderRow,
} from './orders.repository.ts';
import { orderTotal, type CreateOrderInput, type OrderView } from './orders.schemas.ts';

export interface OrdersServiceDeps {
  db: Pool;
  users: HttpClient;
  payments: HttpClient;
  tokens: ServiceTokenSource;
  logger: Logger;
  leaseMs: number;
  /** Delay before the recovery job retries a payment that could not be reached. */
  retryDelayMs: number;
  ordersCounter: Counter<'status'>;
}

interface PaymentReply {
  id?: string;
  status?: 'captured' | 'declined';
  declineReason?: string | null;
  code?: string;
}

/** The payment key of an order: a retry of the charge, by anyone, can never charge twice. */
export const paymentKeyOf = (orderId: string) => `order-${orderId}`;

/** Orders, their payment and its compensation. No HTTP here: routes translate. */
export function createOrdersService(deps: OrdersServiceDeps) {
  const { db, payments, tokens, logger } = deps;

  async function charge(order: OrderRow) {
    return tokens.send((authorization) =>
      payments.request<PaymentReply>({
        method: 'POST',
        path: '/payments',
        idempotencyKey: paymentKeyOf(order.id),
        headers: { authorization },
        body: {
          orderId: order.id,
          userId: order.user_id,
          amount: Number(order.total),
          currency: order.currency,
          cardToken: order.card_token,
        },
      }),
    );
  }

  /**
   * Charges a pending order and records the outcome. When payment-service cannot be reached the
   * order stays pending, its next attempt is scheduled, and 503 PAYMENT_UNAVAILABLE is thrown;
   * the recovery job finishes it later with the same payment key.
   */
  async function settle(order: OrderRow): Promise<OrderRow> {
    let reply;
    try {
      reply = await charge(order);
    } catch (err) {
      if (!(err instanceof UpstreamUnavailableError)) throw err;
      await repo.reschedule(db, order.id, deps.retryDelayMs);
      throw errors.create('PAYMENT_UNAVAILABLE', {
        cause: err,
        details: { orderId: order.id },
        headers: { 'Retry-After': String(Math.ceil(deps.retryDelayMs / 1000)) },
      });
    }
    let settled: OrderRow | undefined;
    if (reply.status === 201 && reply.body.status === 'captured' && reply.body.id) {
      settled = await repo.transition(db, order.id, 'pending', 'paid', {
        paymentId: reply.body.id,
      });
    } else if (reply.status === 201) {
      settled = await repo.transition(db, order.id, 'pending', 'payment_failed', {
        failureReason: reply.body.declineReason ?? 'declined',
      });
    } else if (reply.status < 500 || reply.body.code === 'PROCESSOR_UNAVAILABLE') {
      // A definitive answer: the payment key replays it forever, so retrying cannot change it.
      settled = await repo.transition(db, order.id, 'pending', 'payment_failed', {
        failureReason: (reply.body.code ?? `payment_${reply.status}`).toLowerCase(),
      });
    } else {
      await repo.reschedule(db, order.id, deps.retryDelayMs);
      throw errors.create('PAYMENT_UNAVAILABLE', {
        details: { orderId: order.id },
        headers: { 'Retry-After': String(Math.ceil(deps.retryDelayMs / 1000)) },
      });
    }
    // Someone else (recovery, a concurrent retry) settled it first: their outcome stands.
    const final = settled ?? (await repo.findById(db, order.id)) ?? order;
    if (settled) deps.ordersCounter.inc({ status: settled.status });
    return final;
  }

  async function ownOrder(principal: Principal, id: string): Promise<OrderRow> {
    const order = await repo.findById(db, id);
    // Other users' orders are indistinguishable from missing ones.
    if (!order || (order.user_id !== principal.userId && principal.role !== 'admin'))
      throw errors.create('ORDER_NOT_FOUND');
    return order;
  }

  return {
    settle,

    async create(
      principal: Principal,
      input: CreateOrderInput,
      keyed: { key: string; fingerprint: string },
    ): Promise<{ order: OrderView; replayed: boolean }> {
      // While payment-service's circuit is open nothing could be charged: fail at once, storing
      // nothing, and let the client come back with the same key.
      if (payments.circuitState === 'open') {
        throw errors.create('PAYMENT_UNAVAILABLE', {
          message:
            'payment-service is unavailable; nothing was stored, retry with the same Idempotency-Key.',
          headers: { 'Retry-After': String(Math.ceil(deps.retryDelayMs / 1000)) },
        });
      }
      await ensureUserExists(deps.users, tokens, principal.userId);
      const { row, created } = await repo.insertOnce(db, {
        userId: principal.userId,
        idempotencyKey: keyed.key,
        fingerprint: keyed.fingerprint,
        items: input.items,
        total: orderTotal(input.items),
        currency: input.currency,
        cardToken: input.cardToken,
        leaseMs: deps.leaseMs,
      });
      if (!created) {
        if (row.fingerprint !== keyed.fingerprint) throw errors.create('IDEMPOTENCY_KEY_REUSED');
        return { order: toView(row), replayed: true };
      }
      logger.info(
        { orderId: row.id, total: Number(row.total), currency: row.currency },
        'order stored',
      );
      return { order: toView(await settle(row)), replayed: false };
    },

    async get(principal: Principal, id: string): Promise<OrderView> {
      return toView(await ownOrder(principal, id));
    },

    async list(principal: Principal, limit: number, cursor: string | undefined) {
      const after = cursor ? decodeCursor(cursor) : undefined;
      const rows = await repo.listByUser(db, principal.userId, limit + 1, after);
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page.map(toView),
        nextCursor: rows.length > limit && last ? encodeCursor(last) : null,
      };
    },

    /** Cancels an order; a paid one is refunded in full first. Cancelling twice is harmless. */
    async cancel(principal: Principal, id: string): Promise<OrderView> {
      const order = await ownOrder(principal, id);
      switch (order.status) {
        case 'cancelled':
          return toView(order);
        case 'pending':
          throw errors.create('ORDER_NOT_CANCELLABLE');
        case 'payment_failed':
          return toView((await repo.transition(db, id, 'payment_failed', 'cancelled')) ?? order);
        case 'paid': {
          let reply;
          try {
            reply = await tokens.send((authorization) =>
              payments.request<PaymentReply>({
                method: 'POST',
                path: `/payments/${order.payment_id ?? ''}/refunds`,
                idempotencyKey: `refund-${order.id}`,
                headers: { authorization },
                body: { amount: Number(order.total) },
              }),
            );
          } catch (err) {
            if (err instanceof UpstreamUnavailableError)
              throw errors.create('PAYMENT_UNAVAILABLE', { cause: err });
            throw err;
          }
          // 409 REFUND_EXCEEDS_CAPTURED: an earlier refund already returned the money.
          if (reply.status !== 201 && reply.body.code !== 'REFUND_EXCEEDS_CAPTURED') {
            throw errors.create('PAYMENT_UNAVAILABLE', {
              message: `The refund failed (${reply.status}); try again.`,
            });
          }
          const cancelled = await repo.transition(db, id, 'paid', 'cancelled', { refunded: true });
          if (cancelled) deps.ordersCounter.inc({ status: 'cancelled' });
          return toView(cancelled ?? (await ownOrder(principal, id)));
        }
      }
    },
  };
}

export type OrdersService = ReturnType<typeof createOrdersService>;

function encodeCursor(row: ListedOrderRow): string {
  return `${row.created_us}_${row.id}`;
}

/** A cursor the schema has checked (`CURSOR`): microseconds since the epoch and an id. */
function decodeCursor(cursor: string): { createdUs: string; id: string } {
  const [createdUs = '0', id = ''] = cursor.split('_');
  return { createdUs, id };
}
