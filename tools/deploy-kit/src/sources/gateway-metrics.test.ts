import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseExposition, sampleOf } from './gateway-metrics.ts';

const EXPOSITION = `# HELP gateway_upstream_requests_total Requests proxied
# TYPE gateway_upstream_requests_total counter
gateway_upstream_requests_total{upstream="order-service",version="abc-r2",status_code="201",service="gateway"} 40
gateway_upstream_requests_total{upstream="order-service",version="abc-r2",status_code="503",service="gateway"} 2
gateway_upstream_requests_total{upstream="order-service",version="v1",status_code="201",service="gateway"} 400
gateway_upstream_requests_total{upstream="payment-service",version="abc-r2",status_code="201",service="gateway"} 7
gateway_upstream_request_duration_seconds_bucket{le="0.05",upstream="order-service",version="abc-r2",status_code="201",service="gateway"} 38
gateway_upstream_request_duration_seconds_bucket{le="+Inf",upstream="order-service",version="abc-r2",status_code="201",service="gateway"} 40
gateway_upstream_request_duration_seconds_bucket{le="0.05",upstream="order-service",version="abc-r2",status_code="503",service="gateway"} 2
gateway_upstream_request_duration_seconds_bucket{le="+Inf",upstream="order-service",version="abc-r2",status_code="503",service="gateway"} 2
process_cpu_seconds_total 1.5
`;

describe("the gateway's metrics", () => {
  it('parses samples with their labels, escaped quotes included', () => {
    const [first] = parseExposition('m{a="x\\"y",b="z"} 3\n# comment\n');
    assert.deepEqual(first, { name: 'm', labels: { a: 'x"y', b: 'z' }, value: 3 });
  });

  it("adds up one version's requests by status and its latency buckets across statuses", () => {
    const sample = sampleOf(EXPOSITION, 'order-service', 'abc-r2');
    assert.deepEqual(sample.statuses, { '201': 40, '503': 2 });
    assert.deepEqual(sample.latency.buckets, [
      { le: 0.05, count: 40 },
      { le: Infinity, count: 42 },
    ]);
  });

  it('sees nothing of another version or another upstream', () => {
    assert.deepEqual(sampleOf(EXPOSITION, 'order-service', 'nope').statuses, {});
  });
});
