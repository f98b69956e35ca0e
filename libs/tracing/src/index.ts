export { IGNORED_PATHS, serverSpans } from './server-spans.ts';
export {
  shutdownTracing,
  startTracing,
  tracingEnabled,
  type Tracing,
  type TracingOptions,
} from './tracing.ts';
