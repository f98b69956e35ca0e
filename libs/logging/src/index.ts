export { REDACTED_PATHS, createLogger, type Logger, type LoggerConfig } from './logger.ts';
export { requestLogger } from './request-logger.ts';
