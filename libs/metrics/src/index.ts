export {
  HTTP_DURATION_BUCKETS,
  createMetrics,
  routeTemplate,
  type Metrics,
  type MetricsOptions,
  type PoolStats,
  type RedisStatus,
} from './metrics.ts';
