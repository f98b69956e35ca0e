export { shutdownTracing, startTracing, type Tracing, type TracingOptions } from './tracing.ts';
