import { principalOf, requireAuth, type TokenVerifier } from '@flotilla/auth';
import { requestFingerprint } from '@flotilla/db';
import { validate } from '@flotilla/http';
import { Router } from 'express';
import { errors } from '../errors.ts';
import { createOrderBody, idempotencyHeaders, listQuery, orderIdParams } from './orders.schemas.ts';
import type { OrdersService } from './orders.service.ts';

/** HTTP for orders: parse, validate, call the service, shape the reply. */
export function ordersRoutes(orders: OrdersService, verifier: TokenVerifier): Router {
  const router = Router();
  router.use('/orders', requireAuth(verifier));

  router.post('/orders', async (req, res) => {
    if (req.get('idempotency-key') === undefined) throw errors.create('IDEMPOTENCY_KEY_REQUIRED');
    const key = validate(idempotencyHeaders, req.headers, 'headers')['idempotency-key'];
    const input = validate(createOrderBody, req.body, 'body');
    const { order, replayed } = await orders.create(principalOf(req), input, {
      key,
      fingerprint: requestFingerprint(req.method, req.path, req.body),
    });
    res
      .status(201)
      .location(`/orders/${order.id}`)
      .set('Idempotent-Replayed', String(replayed))
      .json(order);
  });

  router.get('/orders', async (req, res) => {
    const { limit, cursor } = validate(listQuery, req.query, 'query');
    res.json(await orders.list(principalOf(req), limit, cursor));
  });

  router.get('/orders/:id', async (req, res) => {
    const { id } = validate(orderIdParams, req.params, 'params');
    res.json(await orders.get(principalOf(req), id));
  });

  router.post('/orders/:id/cancel', async (req, res) => {
    const { id } = validate(orderIdParams, req.params, 'params');
    res.json(await orders.cancel(principalOf(req), id));
  });

  return router;
}
