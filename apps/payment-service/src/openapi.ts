import { buildOpenApiDocument } from '@flotilla/http';
import { z } from 'zod';
import {
  createPaymentBody,
  idempotencyHeaders,
  listQuery,
  paymentIdParams,
  paymentView,
  refundBody,
  refundView,
} from './payments/payments.schemas.ts';

const paymentLinks = {
  GetPayment: {
    operationId: 'getPayment',
    parameters: { id: '$response.body#/id' },
    description: 'The payment just returned, read back by id',
  },
  RefundPayment: {
    operationId: 'refundPayment',
    parameters: { id: '$response.body#/id' },
    description: 'Refund part or all of it',
  },
  ListPayments: {
    operationId: 'listPayments',
    parameters: { orderId: '$response.body#/orderId' },
    description: "The order's payments",
  },
};

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
      operationId: 'createPayment',
      summary: 'Charge a card (sandbox tokens: tok_visa, tok_declined, tok_error, tok_slow)',
      tags: ['payments'],
      auth: true,
      roles:
        'user (pays for themselves; another userId is 403), admin, service (must name the userId)',
      headers: idempotencyHeaders,
      body: createPaymentBody,
      responses: {
        201: { description: 'Captured or declined (see status)', schema: paymentView },
        403: { description: "Charging another user's card (FORBIDDEN)" },
        422: {
          description: 'Idempotency-Key reused with another request (IDEMPOTENCY_KEY_REUSED)',
        },
        502: { description: 'Card processor unavailable (PROCESSOR_UNAVAILABLE)' },
      },
      links: { 201: paymentLinks },
    },
    {
      method: 'get',
      path: '/payments',
      operationId: 'listPayments',
      summary: "An order's payments",
      tags: ['payments'],
      auth: true,
      roles: 'user (own payments only), admin and service (all)',
      query: listQuery,
      responses: {
        200: { description: 'Payments', schema: z.object({ items: z.array(paymentView) }) },
      },
    },
    {
      method: 'get',
      path: '/payments/{id}',
      operationId: 'getPayment',
      summary: 'A payment with its refunds',
      tags: ['payments'],
      auth: true,
      roles: 'user (own payments), admin and service (any)',
      params: paymentIdParams,
      responses: {
        200: { description: 'Payment', schema: paymentView },
        403: { description: 'Not yours (FORBIDDEN)' },
        404: { description: 'No such payment (PAYMENT_NOT_FOUND)' },
      },
      links: { 200: { RefundPayment: paymentLinks.RefundPayment } },
    },
    {
      method: 'post',
      path: '/payments/{id}/refunds',
      operationId: 'refundPayment',
      summary: 'Refund part or all of a captured payment',
      tags: ['payments'],
      auth: true,
      roles: 'service, admin (users get 403)',
      params: paymentIdParams,
      headers: idempotencyHeaders.partial(),
      body: refundBody,
      responses: {
        201: { description: 'Refunded', schema: refundView.extend({ payment: paymentView }) },
        403: { description: 'Not a service or an admin (FORBIDDEN)' },
        404: { description: 'No such payment (PAYMENT_NOT_FOUND)' },
        409: {
          description:
            'Not captured (PAYMENT_NOT_REFUNDABLE), or more than captured (REFUND_EXCEEDS_CAPTURED)',
        },
        422: {
          description: 'Idempotency-Key reused with another request (IDEMPOTENCY_KEY_REUSED)',
        },
      },
      links: {
        201: {
          GetPayment: {
            ...paymentLinks.GetPayment,
            parameters: { id: '$response.body#/paymentId' },
          },
        },
      },
    },
  ],
);
