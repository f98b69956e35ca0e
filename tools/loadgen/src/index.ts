export { LoadSetupError, runLoad, systemClock, type Clock, type RunDeps } from './load.ts';
export {
  OptionsError,
  formatDuration,
  loadOptionsSchema,
  parseDuration,
  parseLoadOptions,
  parseMix,
  type LoadOptions,
  type LoadOptionsInput,
} from './options.ts';
export {
  formatLive,
  formatReport,
  formatStart,
  type LatencyMs,
  type LiveSummary,
  type Report,
  type StepReport,
} from './report.ts';
export {
  SCENARIO_NAMES,
  formatMix,
  type Mix,
  type ScenarioName,
  type StepName,
} from './scenarios.ts';
export { percentile } from './stats.ts';
