import { SLO } from '@flotilla/promql';
import { SCENARIO_NAMES, parseDuration } from '@flotilla/loadgen';
import { z } from 'zod';

/** The services a release can take, in the order `npm start` starts them. */
export const SERVICES = ['user-service', 'payment-service', 'order-service', 'gateway'] as const;
export type ServiceName = (typeof SERVICES)[number];

/** The release strategies, named as the charts' `strategy.type`. */
export const STRATEGIES = ['rolling', 'blueGreen', 'canary'] as const;
export type StrategyName = (typeof STRATEGIES)[number];

export const PLATFORMS = ['local', 'kubernetes'] as const;
export type PlatformName = (typeof PLATFORMS)[number];

/** `20s`, `2m`, `1m30s` -> milliseconds. */
const duration = z.string().transform((text, ctx) => {
  try {
    return parseDuration(text);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});

const canaryStep = z.strictObject({
  weight: z.number().int().min(1).max(99).describe('percent of the traffic the new version gets'),
  pause: duration.describe('how long the weight holds before the analysis'),
});

/** Steps of a canary when an environment names none: the weights the charts use. */
const DEFAULT_CANARY_STEPS = [
  { weight: 10, pause: 60_000 },
  { weight: 30, pause: 60_000 },
  { weight: 60, pause: 60_000 },
];

const strategy = z.strictObject({
  type: z.enum(STRATEGIES).describe('the strategy used unless --strategy says otherwise'),
  canary: z
    .strictObject({
      steps: z
        .array(canaryStep)
        .min(1)
        .refine((steps) => steps.every((s, i) => i === 0 || s.weight > steps[i - 1]!.weight), {
          message: 'weights must rise from one step to the next',
        }),
    })
    .default({ steps: DEFAULT_CANARY_STEPS }),
  blueGreen: z
    .strictObject({
      preview: duration.describe('how long the old version stays up after the switch'),
    })
    .default({ preview: 60_000 }),
});

const analysis = z
  .strictObject({
    source: z.enum(['gateway', 'prometheus']),
    prometheusUrl: z.url({ protocol: /^https?$/ }).optional(),
    window: duration.describe('the stretch of traffic one measurement looks at'),
    minRequests: z.number().int().min(1).describe('fewer requests than this is inconclusive'),
    inconclusiveLimit: z
      .number()
      .int()
      .min(0)
      .describe('inconclusive measurements allowed in a row before the step fails'),
    failureLimit: z.number().int().min(0).describe('failed measurements allowed in a release'),
    minSuccessRate: z.number().min(0).max(1).default(SLO.minSuccessRate),
    maxP99Seconds: z.number().positive().default(SLO.maxP99Seconds),
    load: z
      .strictObject({
        mix: z
          .partialRecord(z.enum(SCENARIO_NAMES), z.number().min(0))
          .refine((mix) => Object.values(mix).some((w) => w > 0), {
            message: 'at least one scenario needs a weight above 0',
          })
          .default({ visa: 90, browse: 10 })
          .describe('the load generator scenarios and their weights'),
        rate: z
          .number()
          .positive()
          .max(200)
          .optional()
          .describe(
            "iterations a second; by default enough for twice minRequests per window at the step's weight",
          ),
        users: z.number().int().min(1).max(20).default(2),
      })
      .optional()
      .describe(
        "the kit's own traffic during each analysis step (as Flagger's load tester), through the gateway by weight",
      ),
  })
  .refine((a) => a.source !== 'prometheus' || a.prometheusUrl, {
    message: 'a prometheus source needs prometheusUrl',
    path: ['prometheusUrl'],
  });

const kubernetes = z.strictObject({
  context: z.string().min(1).describe('kubeconfig context'),
  namespace: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/),
  valuesFile: z.string().min(1).describe('Helm values of the environment, beside this file'),
});

const serviceOverride = z.strictObject({
  strategy: strategy.optional(),
  analysis: z
    .strictObject({
      minRequests: z.number().int().min(1).optional(),
      minSuccessRate: z.number().min(0).max(1).optional(),
      maxP99Seconds: z.number().positive().optional(),
    })
    .optional(),
});

/** One environment file, `deploy/environments/<name>.yaml`. */
export const environmentSchema = z
  .strictObject({
    description: z.string().optional(),
    platform: z.enum(PLATFORMS),
    kubernetes: kubernetes.optional(),
    strategy,
    analysis,
    approval: z.enum(['none', 'required']),
    promoteFrom: z
      .string()
      .regex(/^[a-z][a-z0-9-]*$/)
      .nullable()
      .describe('the environment a version must have been released in first'),
    readyTimeout: duration.default(60_000),
    services: z.partialRecord(z.enum(SERVICES), serviceOverride).default({}),
  })
  .refine((e) => e.platform !== 'kubernetes' || e.kubernetes, {
    message: 'a kubernetes platform needs the kubernetes block',
    path: ['kubernetes'],
  });

export type EnvironmentInput = z.input<typeof environmentSchema>;
export type EnvironmentFile = z.output<typeof environmentSchema>;
export type Strategy = z.output<typeof strategy>;
export type AnalysisSettings = z.output<typeof analysis>;

/** An environment by name, with what it says for one service resolved. */
export interface Environment extends EnvironmentFile {
  name: string;
}

/** An environment file that does not pass its schema: every problem, with its key. */
export class EnvironmentError extends Error {
  readonly file: string;
  readonly problems: readonly string[];

  constructor(file: string, problems: readonly string[]) {
    super(`${file} is not a valid environment:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'EnvironmentError';
    this.file = file;
    this.problems = problems;
  }
}

/** Validates a parsed environment file; throws {@link EnvironmentError} naming each bad key. */
export function parseEnvironment(name: string, file: string, data: unknown): Environment {
  const result = environmentSchema.safeParse(data);
  if (!result.success) {
    throw new EnvironmentError(
      file,
      result.error.issues.map(
        (issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(file)'}: ${issue.message}`,
      ),
    );
  }
  return { name, ...result.data };
}

/** What an environment says for one service: its strategy and analysis, overrides applied. */
export function settingsFor(
  environment: Environment,
  service: string,
): { strategy: Strategy; analysis: AnalysisSettings } {
  const override = environment.services[service as keyof Environment['services']];
  return {
    strategy: override?.strategy ?? environment.strategy,
    analysis: { ...environment.analysis, ...override?.analysis },
  };
}
