import { buildOpenApiDocument } from '@flotilla/http';
import {
  createPaymentBody,
  idempotencyHeaders,
  listQuery,
  paymentIdParams,
  paymentView,
  refundBody,
  refundView,
} from './payments/payments.schemas.ts';
import { z } from 'zod';

/** payment-service's OpenAPI document, built from the schemas the routes validate with. */
export const openApiDocument = buildOpenApiDocument(
  {
    title: 'payment-service',
    version: '1.0.0',
    description: 'Charges and refunds with idempotency keys',
  },
  [
    {
      method: 'post',
      path: '/payments',
      summary: 'Charge a card (sandbox tokens: tok_visa, tok_declined, tok_error, tok_slow)',
      tags: ['payments'],
      auth: true,
      headers: idempotencyHeaders,
      body: createPaymentBody,
      responses: {
        201: { description: 'Captured or declined (see status)', schema: paymentView },
        400: { description: 'Invalid input or missing Idempotency-Key' },
        422: {
          description: 'Idempotency-Key reused with another request (IDEMPOTENCY_KEY_REUSED)',
        },
        502: { description: 'Card processor unavailable (PROCESSOR_UNAVAILABLE)' },
      },
    },
    {
      method: 'get',
      path: '/payments',
      summary: "An order's payments",
      tags: ['payments'],
      auth: true,
      query: listQuery,
      responses: {
        200: { description: 'Payments', schema: z.object({ items: z.array(paymentView) }) },
      },
    },
    {
      method: 'get',
      path: '/payments/{id}',
      summary: 'A payment with its refunds',
      tags: ['payments'],
      auth: true,
      params: paymentIdParams,
      responses: {
        200: { description: 'Payment', schema: paymentView },
        403: { description: 'Not yours' },
        404: { description: 'No such payment' },
      },
    },
    {
      method: 'post',
      path: '/payments/{id}/refunds',
      summary: 'Refund part or all of a captured payment (services and admins)',
      tags: ['payments'],
      auth: true,
      params: paymentIdParams,
      body: refundBody,
      responses: {
        201: { description: 'Refunded', schema: refundView.extend({ payment: paymentView }) },
        409: { description: 'Not refundable, or more than captured (REFUND_EXCEEDS_CAPTURED)' },
      },
    },
  ],
);
