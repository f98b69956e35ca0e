export {
  REDACTED_PATHS,
  STDOUT_BATCH,
  createLogger,
  type Logger,
  type LoggerConfig,
} from './logger.ts';
export { requestLogger } from './request-logger.ts';
