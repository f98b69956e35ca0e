import { buildOpenApiDocument } from '@flotilla/http';
import {
  createOrderBody,
  idempotencyHeaders,
  listQuery,
  orderIdParams,
  orderPage,
  orderView,
} from './orders/orders.schemas.ts';

/** order-service's OpenAPI document, built from the schemas the routes validate with. */
export const openApiDocument = buildOpenApiDocument(
  {
    title: 'order-service',
    version: '1.0.0',
    description: 'Orders, their payment and its compensation',
  },
  [
    {
      method: 'post',
      path: '/orders',
      summary: 'Place an order and charge it',
      tags: ['orders'],
      auth: true,
      headers: idempotencyHeaders,
      body: createOrderBody,
      responses: {
        201: { description: 'Placed: paid, or payment_failed', schema: orderView },
        400: { description: 'Invalid input or missing Idempotency-Key' },
        403: { description: 'Unknown user (USER_UNKNOWN)' },
        422: { description: 'Idempotency-Key reused with another request' },
        503: {
          description: 'payment-service unavailable (PAYMENT_UNAVAILABLE); the order stays pending',
        },
      },
    },
    {
      method: 'get',
      path: '/orders',
      summary: "The caller's orders, newest first",
      tags: ['orders'],
      auth: true,
      query: listQuery,
      responses: { 200: { description: 'A page', schema: orderPage } },
    },
    {
      method: 'get',
      path: '/orders/{id}',
      summary: 'One of your orders',
      tags: ['orders'],
      auth: true,
      params: orderIdParams,
      responses: {
        200: { description: 'Order', schema: orderView },
        404: { description: 'No such order' },
      },
    },
    {
      method: 'post',
      path: '/orders/{id}/cancel',
      summary: 'Cancel an order, refunding it when paid',
      tags: ['orders'],
      auth: true,
      params: orderIdParams,
      responses: {
        200: { description: 'Cancelled', schema: orderView },
        409: { description: 'Payment still pending (ORDER_NOT_CANCELLABLE)' },
        503: { description: 'payment-service unavailable' },
      },
    },
  ],
);
