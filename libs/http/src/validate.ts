import type { z } from 'zod';
import { commonErrors, type FieldIssue } from './errors.ts';

export type RequestPart = 'body' | 'query' | 'params' | 'headers';

/**
 * Parses `value` with `schema`, or throws a 400 `VALIDATION_FAILED` listing every failing field
 * path (`body.email`), never the rejected values.
 */
export function validate<S extends z.ZodType>(
  schema: S,
  value: unknown,
  part: RequestPart,
): z.infer<S> {
  const result = schema.safeParse(value ?? (part === 'body' ? undefined : {}));
  if (result.success) return result.data;
  const issues: FieldIssue[] = result.error.issues.map((issue) => ({
    path: [part, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
  throw commonErrors.create('VALIDATION_FAILED', {
    message: `Invalid ${part}: ${issues.map((i) => i.path).join(', ')}.`,
    details: { errors: issues },
  });
}
