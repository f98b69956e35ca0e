import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parser } from '@prometheus-io/lezer-promql';
import {
  PromqlSyntaxError,
  gatewayP99Latency,
  gatewayRequestRate,
  gatewaySuccessRate,
  metricNames,
  serviceP99Latency,
  serviceRequestRate,
  serviceSuccessRate,
} from './index.ts';

/** Parses PromQL with Prometheus' own grammar and returns the text of any error nodes. */
function syntaxErrors(query: string): string[] {
  const errors: string[] = [];
  parser.parse(query).iterate({
    enter: (node) => {
      if (node.type.isError) errors.push(`${node.from}: ${query.slice(node.from, node.to + 10)}`);
    },
  });
  return errors;
}

describe('PromQL queries', () => {
  const all = {
    gatewaySuccessRate: gatewaySuccessRate({
      upstream: 'user-service',
      version: 'v2',
      window: '1m',
    }),
    gatewayRequestRate: gatewayRequestRate({ upstream: 'user-service', window: '30s' }),
    gatewayP99Latency: gatewayP99Latency({
      upstream: 'order-service',
      version: 'v1',
      window: '5m',
    }),
    byVersion: gatewaySuccessRate({ window: '1m', by: ['upstream', 'version'] }),
    serviceSuccessRate: serviceSuccessRate('5m'),
    serviceRequestRate: serviceRequestRate('5m'),
    serviceP99Latency: serviceP99Latency('5m'),
  };

  for (const [name, query] of Object.entries(all)) {
    it(`${name} is valid PromQL`, () => {
      assert.deepEqual(syntaxErrors(query), []);
    });
  }

  it('the parser used here does reject broken PromQL', () => {
    assert.notDeepEqual(syntaxErrors('sum by (service (rate(x[1m]))'), []);
  });

  it('counts everything but 5xx as success, for the selected upstream version only', () => {
    assert.equal(
      all.gatewaySuccessRate,
      'sum by (upstream, version) (rate(gateway_upstream_requests_total{upstream="user-service",version="v2",status_code!~"5.."}[1m]))' +
        ' / sum by (upstream, version) (rate(gateway_upstream_requests_total{upstream="user-service",version="v2"}[1m]))',
    );
  });

  it('keeps the labels asked for when nothing is selected', () => {
    assert.match(
      all.byVersion,
      /^sum by \(upstream, version\) \(rate\(gateway_upstream_requests_total\{status_code!~"5.."\}\[1m\]\)\)/,
    );
  });

  it('refuses label values that would change the query', () => {
    assert.throws(
      () => gatewaySuccessRate({ upstream: 'x"} or vector(1) #', window: '1m' }),
      /not a label value/,
    );
  });

  it('leaves probes out of service-level queries', () => {
    assert.match(all.serviceSuccessRate, /route!~"\/health\|\/ready\|\/metrics"/);
  });
});

describe('metricNames', () => {
  it('lists the metrics a query selects, recording rules included', () => {
    assert.deepEqual(
      metricNames('sum by (a) (rate(foo_total{x="1"}[1m])) / on() bar:rec:rate1m + up').sort(),
      ['bar:rec:rate1m', 'foo_total', 'up'],
    );
    assert.deepEqual(metricNames(gatewayP99Latency({ window: '1m' })), [
      'gateway_upstream_request_duration_seconds_bucket',
    ]);
  });

  it('has none for a constant and throws on a syntax error', () => {
    assert.deepEqual(metricNames('0.99'), []);
    assert.throws(() => metricNames('sum(rate(x[1m])'), PromqlSyntaxError);
  });
});
