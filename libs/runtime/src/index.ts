export {
  runService,
  type ExtraListener,
  type RunServiceOptions,
  type RunnableConfig,
  type RunnableDependencies,
} from './run-service.ts';
