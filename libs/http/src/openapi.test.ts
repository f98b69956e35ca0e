import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { buildOpenApiDocument } from './index.ts';

describe('buildOpenApiDocument', () => {
  it('turns the route schemas into an OpenAPI 3.1 document', () => {
    const body = z.strictObject({ name: z.string().max(10), size: z.number().int().optional() });
    const doc = buildOpenApiDocument({ title: 'things', version: '1.0.0' }, [
      {
        method: 'post',
        path: '/things/{id}',
        operationId: 'makeThing',
        summary: 'Make a thing',
        auth: true,
        params: z.object({ id: z.uuid() }),
        headers: z.object({ 'idempotency-key': z.string() }),
        body,
        responses: {
          201: { description: 'made', schema: z.object({ id: z.string() }) },
          409: { description: 'taken' },
        },
      },
    ]);
    const op = doc.paths['/things/{id}']?.['post'] as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- a JSON document
    assert.equal(doc.openapi, '3.1.0');
    assert.deepEqual(op['security'], [{ bearerAuth: [] }]);
    assert.deepEqual(
      op['parameters'].map((p: { name: string; in: string; required: boolean }) => [
        p.name,
        p.in,
        p.required,
      ]),
      [
        ['id', 'path', true],
        ['idempotency-key', 'header', true],
      ],
    );
    const schema = op['requestBody'].content['application/json'].schema;
    assert.deepEqual(schema.required, ['name']);
    assert.equal(schema.properties.name.maxLength, 10);
    assert.equal(schema.$schema, undefined);
    assert.deepEqual(op['responses']['409'].content['application/problem+json'].schema, {
      $ref: '#/components/schemas/Problem',
    });
  });
});
