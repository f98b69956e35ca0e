/** What one iteration does, chosen by the mix weights. */
export const SCENARIO_NAMES = ['visa', 'declined', 'browse'] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

/** Requests made once per user before the load starts; not counted in the success rate. */
export const SETUP_STEPS = ['register', 'login'] as const;
export type StepName = (typeof SETUP_STEPS)[number] | ScenarioName;

/** Relative weights of the scenarios: `{ visa: 90, declined: 10 }`. Missing means 0. */
export type Mix = Partial<Record<ScenarioName, number>>;

export interface RequestSpec {
  method: 'GET' | 'POST';
  /** Path under the target: `/api/orders`. */
  path: string;
  headers: Record<string, string>;
  /** Sent as JSON. */
  body?: unknown;
}

/** An HTTP answer: the status code and the parsed JSON body (undefined if not JSON). */
export interface Answer {
  status: number;
  body: unknown;
}

export interface Scenario {
  readonly name: ScenarioName;
  /** The expected outcome in words, for the README and failure reasons. */
  readonly expectation: string;
  readonly request: (accessToken: string, idempotencyKey: string) => RequestSpec;
  /**
   * Undefined when the answer is the expected one, else a short reason: `500`,
   * `503 PAYMENT_UNAVAILABLE`, `201 status=pending`.
   */
  readonly failureOf: (answer: Answer) => string | undefined;
}

const ORDER_ITEMS = [{ sku: 'TEA-1', quantity: 2, unitPrice: 450 }];

function fieldOf(body: unknown, name: string): unknown {
  return typeof body === 'object' && body !== null
    ? (body as Record<string, unknown>)[name]
    : undefined;
}

/**
 * The reason of an answer other than the expected one: its status, and the problem's `code` when
 * the body has one (`503 PAYMENT_UNAVAILABLE`), so a failure says which dependency failed.
 */
export function unexpected(answer: Answer): string {
  const code = fieldOf(answer.body, 'code');
  return typeof code === 'string' && /^[A-Z][A-Z0-9_]*$/.test(code)
    ? `${answer.status} ${code}`
    : String(answer.status);
}

/**
 * A purchase with one card. order-service answers 201 with the settled order for every payment
 * outcome, a declined card included (status `payment_failed`, failureReason `card_declined`), so
 * the order status in the body is what tells the scenarios apart; a 402 is not part of the contract.
 */
function purchase(
  name: ScenarioName,
  cardToken: string,
  orderStatus: 'paid' | 'payment_failed',
): Scenario {
  return {
    name,
    expectation: `201 with order status "${orderStatus}"`,
    request: (accessToken, idempotencyKey) => ({
      method: 'POST',
      path: '/api/orders',
      headers: { authorization: `Bearer ${accessToken}`, 'idempotency-key': idempotencyKey },
      body: { items: ORDER_ITEMS, currency: 'EUR', cardToken },
    }),
    failureOf: (answer) => {
      if (answer.status !== 201) return unexpected(answer);
      const status = fieldOf(answer.body, 'status');
      return status === orderStatus ? undefined : `201 status=${String(status)}`;
    },
  };
}

export const SCENARIOS: Readonly<Record<ScenarioName, Scenario>> = {
  visa: purchase('visa', 'tok_visa', 'paid'),
  declined: purchase('declined', 'tok_declined', 'payment_failed'),
  browse: {
    name: 'browse',
    expectation: '200 with a page of orders',
    request: (accessToken) => ({
      method: 'GET',
      path: '/api/orders',
      headers: { authorization: `Bearer ${accessToken}` },
    }),
    failureOf: (answer) => {
      if (answer.status !== 200) return unexpected(answer);
      return Array.isArray(fieldOf(answer.body, 'items')) ? undefined : '200 without items';
    },
  },
};

/**
 * A function that picks a scenario at random in proportion to the mix weights. `random` returns a
 * number in [0, 1), like Math.random; inject it to make the choice deterministic.
 */
export function createMixPicker(mix: Mix, random: () => number = Math.random): () => ScenarioName {
  const entries = SCENARIO_NAMES.flatMap((name) => {
    const weight = mix[name] ?? 0;
    return weight > 0 ? [{ name, weight }] : [];
  });
  const last = entries.at(-1);
  if (!last) throw new RangeError('the mix needs at least one scenario with a weight above 0');
  const total = entries.reduce((sum, entry) => sum + entry.weight, 0);
  return () => {
    let point = random() * total;
    for (const entry of entries) {
      if (point < entry.weight) return entry.name;
      point -= entry.weight;
    }
    // Only reached when random() returns 1 or rounding leaves a remainder.
    return last.name;
  };
}

/** `visa=90,declined=10`: the mix as the --mix flag spells it, zero weights left out. */
export function formatMix(mix: Mix): string {
  return SCENARIO_NAMES.filter((name) => (mix[name] ?? 0) > 0)
    .map((name) => `${name}=${mix[name]}`)
    .join(',');
}
