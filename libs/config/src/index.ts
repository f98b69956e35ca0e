export {
  ConfigError,
  EXIT_CONFIG,
  describeConfig,
  loadConfig,
  loadConfigOrExit,
  type Config,
  type ConfigIssue,
  type ConfigSchema,
} from './config.ts';
export { field } from './fields.ts';
export { adminConfigShape, serviceConfigShape } from './service-shape.ts';
