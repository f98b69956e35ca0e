import { z } from 'zod';

/** Common field builders, so every service spells a port or a duration the same way. */
export const field = {
  port: (defaultPort: number, description: string) =>
    z.coerce.number().int().min(0).max(65_535).default(defaultPort).describe(description),
  milliseconds: (defaultMs: number, description: string, { min = 0, max = 3_600_000 } = {}) =>
    z.coerce.number().int().min(min).max(max).default(defaultMs).describe(description),
  integer: (
    defaultValue: number,
    description: string,
    { min = 0, max = Number.MAX_SAFE_INTEGER } = {},
  ) => z.coerce.number().int().min(min).max(max).default(defaultValue).describe(description),
  boolean: (defaultValue: boolean, description: string) =>
    z
      .stringbool({ truthy: ['true'], falsy: ['false'], case: 'sensitive' })
      .default(defaultValue)
      .describe(description),
  url: (description: string, protocols: readonly string[]) =>
    z.url({ protocol: new RegExp(`^(${protocols.join('|')})$`) }).describe(description),
  logLevel: () =>
    z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info')
      .describe('pino log level'),
} as const;
