import { STATUS_CODES } from 'node:http';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { AppError, commonErrors } from './errors.ts';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** An RFC 9457 problem document with our stable `code`. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  detail: string;
  instance?: string;
  requestId?: string;
  [extension: string]: unknown;
}

/**
 * The problem document of an AppError. A 5xx keeps its code but gets a generic detail and no
 * extension members: what went wrong inside is for the logs, not for clients.
 */
export function toProblem(
  appError: AppError,
  context: { instance?: string; requestId?: string } = {},
): Problem {
  const exposed = appError.expose;
  return {
    type: 'about:blank',
    title: STATUS_CODES[appError.status] ?? 'Error',
    status: appError.status,
    code: appError.code,
    detail: exposed ? appError.message : commonErrors.catalog.INTERNAL.message,
    ...(context.instance ? { instance: context.instance } : {}),
    ...(context.requestId ? { requestId: context.requestId } : {}),
    ...(exposed ? appError.details : {}),
  };
}

/** Answers requests no route matched with a 404 problem. */
export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(
    commonErrors.create('ROUTE_NOT_FOUND', { message: `No route for ${req.method} ${req.path}.` }),
  );
};

/** Body-parser's errors carry `type`; they are client errors, never 500s. */
function fromBodyParser(err: unknown): AppError | undefined {
  const type = (err as { type?: unknown })?.type;
  switch (type) {
    case 'entity.parse.failed':
      return commonErrors.create('MALFORMED_JSON', { cause: err });
    case 'entity.too.large':
      return commonErrors.create('PAYLOAD_TOO_LARGE', { cause: err });
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return commonErrors.create('UNSUPPORTED_MEDIA_TYPE', { cause: err });
    case 'request.aborted':
    case 'request.size.invalid':
      return new AppError('BAD_REQUEST', 'The request body was incomplete.', 400, { cause: err });
    default:
      return undefined;
  }
}

// A dependency that cannot be reached right now (a database restarting, a connection refused or
// cut): the request may succeed when retried, so it is a 503 with Retry-After, not a 500. Node's
// socket errors, PostgreSQL's connection-exception (08xxx) and shutdown (57P01-57P03) SQLSTATEs,
// and the pool's own connection errors, which carry no code.
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
]);
const UNAVAILABLE_MESSAGES =
  /^(timeout exceeded when trying to connect|Connection terminated|Client has encountered a connection error)/;

function fromUnavailableDependency(err: unknown): AppError | undefined {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  const unavailable =
    (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) ||
    (typeof message === 'string' && UNAVAILABLE_MESSAGES.test(message));
  if (!unavailable) return undefined;
  return commonErrors.create('SERVICE_UNAVAILABLE', {
    cause: err,
    headers: { 'Retry-After': '1' },
  });
}

/**
 * Turns any error into `application/problem+json`. AppErrors keep their code and status; an
 * unreachable dependency is a 503 `SERVICE_UNAVAILABLE`; anything else is a 500 `INTERNAL`. The
 * message of every 5xx is logged with the request id and hidden from the client.
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const appError =
      err instanceof AppError
        ? err
        : (fromBodyParser(err) ??
          fromUnavailableDependency(err) ??
          commonErrors.create('INTERNAL', { cause: err }));
    const requestId = typeof req.id === 'string' ? req.id : undefined;
    if (appError.status < 500) {
      logger.debug({ code: appError.code, requestId }, appError.message);
    } else {
      logger.error({ err, code: appError.code, requestId }, 'request failed');
    }
    const problem = toProblem(appError, { instance: req.originalUrl, requestId });
    if (appError.headers) res.set(appError.headers);
    res.status(appError.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem));
  };
}
