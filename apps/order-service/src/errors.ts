import { defineErrors } from '@flotilla/http';

/** order-service's error catalog: stable codes clients can rely on. */
export const errors = defineErrors({
  ORDER_NOT_FOUND: { status: 404, message: 'No such order.' },
  ORDER_NOT_CANCELLABLE: {
    status: 409,
    message: 'The order cannot be cancelled while its payment is pending.',
  },
  IDEMPOTENCY_KEY_REQUIRED: {
    status: 400,
    message: 'This request needs an Idempotency-Key header.',
  },
  IDEMPOTENCY_KEY_REUSED: {
    status: 422,
    message: 'This Idempotency-Key was used with a different request.',
  },
  USER_UNKNOWN: { status: 403, message: 'The user is not registered.' },
  USER_SERVICE_UNAVAILABLE: {
    status: 503,
    message: 'user-service is unavailable; try again later.',
    expose: true,
  },
  PAYMENT_UNAVAILABLE: {
    status: 503,
    message:
      'payment-service is unavailable; the order is kept pending and will be completed or cancelled.',
    expose: true,
  },
});
