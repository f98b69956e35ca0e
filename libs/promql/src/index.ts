export {
  SLO,
  gatewayP99Latency,
  gatewayRequestRate,
  gatewaySuccessRate,
  serviceP99Latency,
  serviceRequestRate,
  serviceSuccessRate,
  type Selection,
  type Window,
} from './queries.ts';
export { PromqlSyntaxError, metricNames } from './metric-names.ts';
