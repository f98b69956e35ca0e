import { defineErrors } from '@flotilla/http';

/** payment-service's error catalog: stable codes clients can rely on. */
export const errors = defineErrors({
  PAYMENT_NOT_FOUND: { status: 404, message: 'No such payment.' },
  IDEMPOTENCY_KEY_REQUIRED: {
    status: 400,
    message: 'This request needs an Idempotency-Key header.',
  },
  PAYMENT_NOT_REFUNDABLE: { status: 409, message: 'Only a captured payment can be refunded.' },
  REFUND_EXCEEDS_CAPTURED: { status: 409, message: 'Refunds would exceed the captured amount.' },
  PROCESSOR_UNAVAILABLE: {
    status: 502,
    message: 'The card processor is unavailable; try again with a new Idempotency-Key.',
    expose: true,
  },
});
