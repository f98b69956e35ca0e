import { principalOf, requireAuth, type TokenVerifier } from '@flotilla/auth';
import { requestFingerprint } from '@flotilla/db';
import { PROBLEM_CONTENT_TYPE, validate } from '@flotilla/http';
import { Router, type Request, type Response } from 'express';
import { errors } from '../errors.ts';
import {
  createPaymentBody,
  idempotencyHeaders,
  listQuery,
  paymentIdParams,
  refundBody,
} from './payments.schemas.ts';
import type { PaymentsService } from './payments.service.ts';

function optionalKey(req: Request) {
  if (req.get('idempotency-key') === undefined) return undefined;
  const key = validate(idempotencyHeaders, req.headers, 'headers')['idempotency-key'];
  return { key, fingerprint: requestFingerprint(req.method, req.path, req.body) };
}

function requiredKey(req: Request) {
  const keyed = optionalKey(req);
  if (!keyed) throw errors.create('IDEMPOTENCY_KEY_REQUIRED');
  return keyed;
}

/** Sends a stored reply, marking replays with `Idempotent-Replayed: true`. */
function sendStored(res: Response, reply: { status: number; body: unknown; replayed: boolean }) {
  res
    .status(reply.status)
    .set('Idempotent-Replayed', String(reply.replayed))
    .type(reply.status >= 400 ? PROBLEM_CONTENT_TYPE : 'application/json')
    .send(JSON.stringify(reply.body));
}

export function paymentsRoutes(payments: PaymentsService, verifier: TokenVerifier): Router {
  const router = Router();
  router.use('/payments', requireAuth(verifier));

  router.post('/payments', async (req, res) => {
    const keyed = requiredKey(req);
    const input = validate(createPaymentBody, req.body, 'body');
    sendStored(res, await payments.charge(principalOf(req), input, keyed));
  });

  router.get('/payments', async (req, res) => {
    const { orderId } = validate(listQuery, req.query, 'query');
    res.json({ items: await payments.listByOrder(principalOf(req), orderId) });
  });

  router.get('/payments/:id', async (req, res) => {
    const { id } = validate(paymentIdParams, req.params, 'params');
    res.json(await payments.get(principalOf(req), id));
  });

  router.post('/payments/:id/refunds', async (req, res) => {
    const { id } = validate(paymentIdParams, req.params, 'params');
    const keyed = optionalKey(req);
    const { amount } = validate(refundBody, req.body, 'body');
    sendStored(res, await payments.refund(principalOf(req), id, amount, keyed));
  });

  return router;
}
