export {
  runService,
  type RunServiceOptions,
  type RunnableConfig,
  type RunnableDependencies,
} from './run-service.ts';
