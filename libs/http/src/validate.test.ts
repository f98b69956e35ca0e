import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { AppError, validate } from './index.ts';

describe('validate', () => {
  const query = z.object({
    limit: z.coerce.number().int().max(100),
    cursor: z.string().optional(),
  });

  it('returns the parsed value when it is valid', () => {
    assert.deepEqual(validate(query, { limit: '20' }, 'query'), { limit: 20 });
  });

  it('throws VALIDATION_FAILED naming each failing path under the request part', () => {
    assert.throws(
      () =>
        validate(
          z.object({ email: z.email(), items: z.array(z.object({ qty: z.number().min(1) })) }),
          { email: 'x', items: [{ qty: 1 }, { qty: 0 }] },
          'body',
        ),
      (err: unknown) => {
        assert.ok(err instanceof AppError);
        assert.equal(err.status, 400);
        assert.equal(err.code, 'VALIDATION_FAILED');
        const issues = err.details?.['errors'] as { path: string; message: string }[];
        assert.deepEqual(issues.map((i) => i.path).sort(), ['body.email', 'body.items.1.qty']);
        assert.equal(err.message, 'Invalid body: body.email, body.items.1.qty.');
        return true;
      },
    );
  });

  it('reports a missing body at the path "body"', () => {
    assert.throws(
      () => validate(z.object({ name: z.string() }), undefined, 'body'),
      (err: unknown) => {
        assert.ok(err instanceof AppError);
        assert.deepEqual(
          (err.details?.['errors'] as { path: string }[]).map((i) => i.path),
          ['body'],
        );
        return true;
      },
    );
  });

  it('reads a missing query, params or headers as an empty object', () => {
    assert.deepEqual(validate(z.object({ cursor: z.string().optional() }), undefined, 'query'), {});
    assert.throws(
      () => validate(query, undefined, 'query'),
      (err: unknown) => {
        assert.ok(err instanceof AppError);
        assert.deepEqual(
          (err.details?.['errors'] as { path: string }[]).map((i) => i.path),
          ['query.limit'],
        );
        return true;
      },
    );
  });
});
