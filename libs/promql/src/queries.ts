/**
 * The service-level objectives every release is judged by: the Prometheus alert rules
 * (deploy/prometheus/rules), the canary analysis and the Grafana dashboards use these numbers.
 */
export const SLO = Object.freeze({
  /** Share of requests that must not fail with a 5xx. */
  minSuccessRate: 0.99,
  /** 99th percentile latency, in seconds. */
  maxP99Seconds: 0.5,
  /** Below this many requests per second a window says too little to judge. */
  minRequestRate: 0.1,
});

/** Prometheus range durations: `30s`, `1m`, `5m`, `1h`. */
export type Window = `${number}${'s' | 'm' | 'h'}`;

/** Which traffic a query looks at. */
export interface Selection {
  /** At the gateway: an upstream service and, optionally, one of its versions. */
  upstream?: string;
  version?: string;
  window: Window;
  /** Labels to keep apart; defaults to those selected on. */
  by?: readonly ('upstream' | 'version')[];
}

const SERVER_ERROR = '5..';

function matchers(selection: Selection, extra: string[] = []): string {
  const parts = [
    ...(selection.upstream ? [`upstream="${escape(selection.upstream)}"`] : []),
    ...(selection.version ? [`version="${escape(selection.version)}"`] : []),
    ...extra,
  ];
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

function escape(value: string): string {
  if (!/^[A-Za-z0-9._-]+$/.test(value)) throw new Error(`not a label value we select on: ${value}`);
  return value;
}

function groupBy(selection: Selection, extra: string[] = []): string {
  const labels = [
    ...(selection.by ?? (['upstream', 'version'] as const).filter((label) => selection[label])),
    ...extra,
  ];
  return labels.length === 0 ? 'sum' : `sum by (${labels.join(', ')})`;
}

/**
 * Share of requests the gateway proxied to an upstream (version) that did not end in a 5xx,
 * over the window. The canary analysis compares it with {@link SLO.minSuccessRate}.
 */
export function gatewaySuccessRate(selection: Selection): string {
  const sum = groupBy(selection);
  const metric = 'gateway_upstream_requests_total';
  return (
    `${sum} (rate(${metric}${matchers(selection, [`status_code!~"${SERVER_ERROR}"`])}[${selection.window}]))` +
    ` / ${sum} (rate(${metric}${matchers(selection)}[${selection.window}]))`
  );
}

/** Requests per second the gateway proxied to an upstream (version). */
export function gatewayRequestRate(selection: Selection): string {
  return `${groupBy(selection)} (rate(gateway_upstream_requests_total${matchers(selection)}[${selection.window}]))`;
}

/** 99th percentile time to the upstream's answer at the gateway, in seconds. */
export function gatewayP99Latency(selection: Selection): string {
  return (
    `histogram_quantile(0.99, ${groupBy(selection, ['le'])} ` +
    `(rate(gateway_upstream_request_duration_seconds_bucket${matchers(selection)}[${selection.window}])))`
  );
}

/** Per service: share of its own requests that did not end in a 5xx (probes excluded). */
export function serviceSuccessRate(window: Window): string {
  const api = 'route!~"/health|/ready|/metrics"';
  return (
    `sum by (service) (rate(http_server_requests_total{status_code!~"${SERVER_ERROR}",${api}}[${window}]))` +
    ` / sum by (service) (rate(http_server_requests_total{${api}}[${window}]))`
  );
}

/** Per service: requests per second (probes excluded). */
export function serviceRequestRate(window: Window): string {
  return `sum by (service) (rate(http_server_requests_total{route!~"/health|/ready|/metrics"}[${window}]))`;
}

/** Per service: 99th percentile request duration in seconds (probes excluded). */
export function serviceP99Latency(window: Window): string {
  return (
    'histogram_quantile(0.99, sum by (service, le) ' +
    `(rate(http_server_request_duration_seconds_bucket{route!~"/health|/ready|/metrics"}[${window}])))`
  );
}
