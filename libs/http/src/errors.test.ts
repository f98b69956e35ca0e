import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError, commonErrors, defineErrors, toProblem } from './index.ts';

describe('AppError', () => {
  it('carries its code, status, details, headers and cause', () => {
    const cause = new Error('duplicate key value violates unique constraint');

    const err = new AppError('EMAIL_TAKEN', 'That email is registered.', 409, {
      cause,
      details: { field: 'email' },
      headers: { 'Retry-After': '1' },
    });

    assert.ok(err instanceof Error);
    assert.equal(err.name, 'AppError');
    assert.equal(err.code, 'EMAIL_TAKEN');
    assert.equal(err.status, 409);
    assert.equal(err.message, 'That email is registered.');
    assert.deepEqual(err.details, { field: 'email' });
    assert.deepEqual(err.headers, { 'Retry-After': '1' });
    assert.equal(err.cause, cause);
  });

  it('is shown to clients below 500 and hidden from 500 up unless asked', () => {
    assert.equal(new AppError('A', 'a', 499).expose, true);
    assert.equal(new AppError('B', 'b', 500).expose, false);
    assert.equal(new AppError('C', 'c', 503, { expose: true }).expose, true);
    assert.equal(new AppError('D', 'd', 404, { expose: false }).expose, false);
  });
});

describe('defineErrors', () => {
  const errors = defineErrors({
    USER_NOT_FOUND: { status: 404, message: 'No such user.' },
    MAINTENANCE: { status: 503, message: 'Back at noon.', expose: true },
  });

  it('creates an AppError with the status and message of the catalog', () => {
    const err = errors.create('USER_NOT_FOUND');

    assert.ok(err instanceof AppError);
    assert.equal(err.code, 'USER_NOT_FOUND');
    assert.equal(err.status, 404);
    assert.equal(err.message, 'No such user.');
  });

  it('lets one error override the message and add details and a cause', () => {
    const cause = new Error('0 rows');

    const err = errors.create('USER_NOT_FOUND', {
      message: 'No user u-1.',
      details: { id: 'u-1' },
      cause,
    });

    assert.equal(err.message, 'No user u-1.');
    assert.deepEqual(err.details, { id: 'u-1' });
    assert.equal(err.cause, cause);
  });

  it('takes expose from the catalog, and lets one error override it', () => {
    assert.equal(errors.create('MAINTENANCE').expose, true);
    assert.equal(errors.create('MAINTENANCE', { expose: false }).expose, false);
  });

  it('refuses a code that is not in the catalog', () => {
    const untyped = errors as { create(code: string): AppError };

    assert.throws(() => untyped.create('NOPE'), /unknown error code NOPE/);
  });

  it('exposes the catalog it was given', () => {
    assert.equal(errors.catalog.MAINTENANCE.status, 503);
  });
});

describe('commonErrors', () => {
  it('maps the shared codes to their statuses', () => {
    const statuses = Object.fromEntries(
      Object.entries(commonErrors.catalog).map(([code, entry]) => [code, entry.status]),
    );

    assert.deepEqual(statuses, {
      VALIDATION_FAILED: 400,
      MALFORMED_JSON: 400,
      UNAUTHENTICATED: 401,
      TOKEN_INVALID: 401,
      FORBIDDEN: 403,
      ROUTE_NOT_FOUND: 404,
      METHOD_NOT_ALLOWED: 405,
      PAYLOAD_TOO_LARGE: 413,
      UNSUPPORTED_MEDIA_TYPE: 415,
      SERVICE_UNAVAILABLE: 503,
      INTERNAL: 500,
    });
  });
});

describe('toProblem', () => {
  it('builds an RFC 9457 document with the code, instance and request id', () => {
    const problem = toProblem(
      new AppError('ORDER_NOT_FOUND', 'No order o-1.', 404, { details: { id: 'o-1' } }),
      { instance: '/orders/o-1', requestId: 'r-1' },
    );

    assert.deepEqual(problem, {
      type: 'about:blank',
      title: 'Not Found',
      status: 404,
      code: 'ORDER_NOT_FOUND',
      detail: 'No order o-1.',
      instance: '/orders/o-1',
      requestId: 'r-1',
      id: 'o-1',
    });
  });

  it('gives a hidden error a generic detail and none of its details', () => {
    const problem = toProblem(
      new AppError('DB_DOWN', 'connect ECONNREFUSED 10.0.0.5:5432', 500, {
        details: { host: '10.0.0.5' },
      }),
    );

    assert.deepEqual(problem, {
      type: 'about:blank',
      title: 'Internal Server Error',
      status: 500,
      code: 'DB_DOWN',
      detail: 'Internal server error.',
    });
  });

  it('uses "Error" as the title of a status without a standard name', () => {
    assert.equal(toProblem(new AppError('ODD', 'odd', 599)).title, 'Error');
  });
});
