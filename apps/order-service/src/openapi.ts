import { buildOpenApiDocument } from '@flotilla/http';
import {
  createOrderBody,
  idempotencyHeaders,
  listQuery,
  orderIdParams,
  orderPage,
  orderView,
} from './orders/orders.schemas.ts';

const orderLinks = {
  GetOrder: {
    operationId: 'getOrder',
    parameters: { id: '$response.body#/id' },
    description: 'The order just returned, read back by id',
  },
  CancelOrder: {
    operationId: 'cancelOrder',
    parameters: { id: '$response.body#/id' },
    description: 'Cancel it (refunded when paid)',
  },
};

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
      operationId: 'createOrder',
      summary: 'Place an order and charge it',
      tags: ['orders'],
      auth: true,
      roles: 'user, admin (orders for themselves)',
      headers: idempotencyHeaders,
      body: createOrderBody,
      responses: {
        201: { description: 'Placed: paid, or payment_failed', schema: orderView },
        403: { description: 'Unknown user (USER_UNKNOWN)' },
        422: {
          description: 'Idempotency-Key reused with another request (IDEMPOTENCY_KEY_REUSED)',
        },
        503: {
          description:
            'payment-service unavailable (PAYMENT_UNAVAILABLE: an order whose charge failed stays pending and is completed later; while the circuit to payment-service is open nothing is stored), user-service unavailable (USER_SERVICE_UNAVAILABLE), or the database (SERVICE_UNAVAILABLE)',
        },
      },
      links: { 201: orderLinks },
    },
    {
      method: 'get',
      path: '/orders',
      operationId: 'listOrders',
      summary: "The caller's orders, newest first",
      tags: ['orders'],
      auth: true,
      roles: "any (only the caller's own orders)",
      query: listQuery,
      responses: { 200: { description: 'A page', schema: orderPage } },
    },
    {
      method: 'get',
      path: '/orders/{id}',
      operationId: 'getOrder',
      summary: 'One of your orders',
      tags: ['orders'],
      auth: true,
      roles: "user (own orders; another user's order is 404), admin (any)",
      params: orderIdParams,
      responses: {
        200: { description: 'Order', schema: orderView },
        404: { description: 'No such order, or not yours (ORDER_NOT_FOUND)' },
      },
      links: { 200: { CancelOrder: orderLinks.CancelOrder } },
    },
    {
      method: 'post',
      path: '/orders/{id}/cancel',
      operationId: 'cancelOrder',
      summary: 'Cancel an order, refunding it when paid',
      tags: ['orders'],
      auth: true,
      roles: "user (own orders; another user's order is 404), admin (any)",
      params: orderIdParams,
      responses: {
        200: { description: 'Cancelled', schema: orderView },
        404: { description: 'No such order, or not yours (ORDER_NOT_FOUND)' },
        409: { description: 'Payment still pending (ORDER_NOT_CANCELLABLE)' },
        503: {
          description:
            'payment-service unavailable for the refund (PAYMENT_UNAVAILABLE), or the database (SERVICE_UNAVAILABLE)',
        },
      },
      links: { 200: { GetOrder: orderLinks.GetOrder } },
    },
  ],
);
