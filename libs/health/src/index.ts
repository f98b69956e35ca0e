export {
  createHealth,
  type CheckResult,
  type DependencyCheck,
  type Health,
  type HealthOptions,
  type ReadinessReport,
} from './health.ts';
export { installGracefulShutdown, type Closer, type ShutdownOptions } from './shutdown.ts';
