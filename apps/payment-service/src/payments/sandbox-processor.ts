import { setTimeout as sleepFor } from 'node:timers/promises';
import { errors } from '../errors.ts';

export type ChargeResult = { approved: true } | { approved: false; reason: string };

/** What a card processor does for us: approve or decline a charge, or fail. */
export interface CardProcessor {
  charge(charge: { amount: number; currency: string; cardToken: string }): Promise<ChargeResult>;
}

/**
 * Test card tokens of the sandbox processor, so every path can be exercised:
 * `tok_visa`, `tok_mastercard` approve; `tok_declined` and `tok_insufficient_funds` decline;
 * `tok_error` fails like a processor outage (502 PROCESSOR_UNAVAILABLE); `tok_slow` approves after
 * `slowMs`. Any other token is declined as unknown.
 */
export const SANDBOX_TOKENS = [
  'tok_visa',
  'tok_mastercard',
  'tok_declined',
  'tok_insufficient_funds',
  'tok_error',
  'tok_slow',
] as const;

export function createSandboxProcessor({
  slowMs,
  sleep = sleepFor,
}: {
  slowMs: number;
  sleep?: (ms: number) => Promise<unknown>;
}): CardProcessor {
  return {
    async charge({ cardToken }) {
      switch (cardToken) {
        case 'tok_visa':
        case 'tok_mastercard':
          return { approved: true };
        case 'tok_declined':
          return { approved: false, reason: 'card_declined' };
        case 'tok_insufficient_funds':
          return { approved: false, reason: 'insufficient_funds' };
        case 'tok_error':
          throw errors.create('PROCESSOR_UNAVAILABLE');
        case 'tok_slow':
          await sleep(slowMs);
          return { approved: true };
        default:
          return { approved: false, reason: 'unknown_card' };
      }
    },
  };
}
