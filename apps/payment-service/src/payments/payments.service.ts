import type { Principal } from '@flotilla/auth';
import {
  PG_ERROR,
  isPgError,
  withIdempotencyKey,
  withTransaction,
  type Pool,
  type StoredResponse,
} from '@flotilla/db';
import { commonErrors, toProblem } from '@flotilla/http';
import type { Counter } from 'prom-client';
import { errors } from '../errors.ts';
import { paymentsRepository as repo } from './payments.repository.ts';
import type { CreatePaymentInput, PaymentView } from './payments.schemas.ts';
import type { CardProcessor } from './sandbox-processor.ts';

export interface PaymentsServiceDeps {
  db: Pool;
  processor: CardProcessor;
  idempotencyTtlMs: number;
  /** `payments_total{status}`. */
  paymentsCounter: Counter<'status'>;
}

export interface Keyed {
  key: string;
  fingerprint: string;
}

const problemOf = (err: Parameters<typeof toProblem>[0]): StoredResponse => ({
  status: err.status,
  body: toProblem(err),
});

/** Charges, refunds and lookups. No HTTP here: routes translate. */
export function createPaymentsService({
  db,
  processor,
  idempotencyTtlMs,
  paymentsCounter,
}: PaymentsServiceDeps) {
  const mayRead = (principal: Principal, payment: PaymentView) =>
    payment.userId === principal.userId ||
    principal.role === 'admin' ||
    principal.role === 'service';

  /** Users pay for themselves; a service charging on a user's behalf must name the user. */
  function payerOf(principal: Principal, input: CreatePaymentInput): string {
    if (principal.role === 'service') {
      if (!input.userId) {
        throw commonErrors.create('VALIDATION_FAILED', {
          message: 'A service must name the userId it charges for.',
          details: { errors: [{ path: 'body.userId', message: 'required for service callers' }] },
        });
      }
      return input.userId;
    }
    if (input.userId !== undefined && input.userId !== principal.userId)
      throw commonErrors.create('FORBIDDEN');
    return principal.userId;
  }

  return {
    async charge(principal: Principal, input: CreatePaymentInput, keyed: Keyed) {
      const userId = payerOf(principal, input);
      return withIdempotencyKey(
        db,
        {
          scope: principal.userId,
          key: keyed.key,
          fingerprint: keyed.fingerprint,
          ttlMs: idempotencyTtlMs,
        },
        async (client) => {
          const result = await processor.charge(input);
          const payment = await repo.insert(client, {
            orderId: input.orderId,
            userId,
            amount: input.amount,
            currency: input.currency,
            status: result.approved ? 'captured' : 'declined',
            ...(result.approved ? {} : { declineReason: result.reason }),
          });
          paymentsCounter.inc({ status: payment.status });
          return { status: 201, body: payment };
        },
        problemOf,
      );
    },

    async get(principal: Principal, id: string): Promise<PaymentView> {
      const payment = await repo.findById(db, id);
      if (!payment) throw errors.create('PAYMENT_NOT_FOUND');
      if (!mayRead(principal, payment)) throw commonErrors.create('FORBIDDEN');
      return payment;
    },

    async listByOrder(principal: Principal, orderId: string): Promise<PaymentView[]> {
      const payments = await repo.findByOrder(db, orderId);
      return payments.filter((payment) => mayRead(principal, payment));
    },

    async refund(
      principal: Principal,
      paymentId: string,
      amount: number,
      keyed: Keyed | undefined,
    ) {
      if (principal.role !== 'service' && principal.role !== 'admin')
        throw commonErrors.create('FORBIDDEN');
      const work = async (
        client: Parameters<typeof repo.addRefund>[0],
      ): Promise<StoredResponse> => {
        try {
          const refund = await repo.addRefund(client, paymentId, amount);
          if (!refund) throw errors.create('PAYMENT_NOT_FOUND');
          return {
            status: 201,
            body: { ...refund, payment: await repo.findById(client, paymentId) },
          };
        } catch (err) {
          if (isPgError(err, PG_ERROR.CHECK_VIOLATION, 'payments_refunds_within_captured')) {
            throw errors.create('REFUND_EXCEEDS_CAPTURED', { cause: err });
          }
          if (isPgError(err, PG_ERROR.CHECK_VIOLATION, 'payments_refunds_only_captured')) {
            throw errors.create('PAYMENT_NOT_REFUNDABLE', { cause: err });
          }
          throw err;
        }
      };
      if (keyed) {
        return withIdempotencyKey(
          db,
          {
            scope: principal.userId,
            key: keyed.key,
            fingerprint: keyed.fingerprint,
            ttlMs: idempotencyTtlMs,
          },
          work,
          problemOf,
        );
      }
      return { ...(await withTransaction(db, work)), replayed: false };
    },
  };
}

export type PaymentsService = ReturnType<typeof createPaymentsService>;
