export {
  EnvironmentError,
  PLATFORMS,
  STRATEGIES,
  environmentSchema,
  parseEnvironment,
  settingsFor,
  type Environment,
  type StrategyName,
} from './core/environment.ts';
export { EXIT, planRelease, type Plan, type ReleasePlan, type Step } from './core/plan.ts';
export type { Figures, ReleaseRecord } from './core/ledger.ts';
export { histogramQuantile, judge } from './core/analysis.ts';
export { releaseOrder } from './core/release-order.ts';
export { deploy, rollback, status, loadEnvironment, type CommandIO } from './run/command.ts';
