import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { metricNames } from '@flotilla/promql';
import { parse } from 'yaml';
import { GRAFANA_DIR, dashboardQueries, loadDashboards, loadRules } from './observability.ts';

describe('Grafana dashboards', () => {
  const dashboards = loadDashboards();
  const queries = dashboardQueries();
  const recorded = new Set(loadRules().flatMap((r) => (r.record ? [r.record] : [])));

  it('cover RED per service, the gateway per upstream version, pools and the event loop', () => {
    const all = queries.map((q) => q.expr).join('\n');
    for (const metric of [
      'http_server_requests_total',
      'http_server_request_duration_seconds_bucket',
      'gateway_upstream_requests_total',
      'upstream_version:gateway_success_ratio:rate1m',
      'db_pool_connections',
      'nodejs_eventloop_lag_p99_seconds',
    ])
      assert.ok(all.includes(metric), `no panel shows ${metric}`);
  });

  it('have unique uids and a query in every panel', () => {
    const uids = [...dashboards.values()].map((d) => d.uid);
    assert.equal(new Set(uids).size, uids.length);
    for (const [file, dashboard] of dashboards) {
      for (const panel of dashboard.panels) {
        assert.ok(
          (panel.targets ?? []).some((t) => t.expr),
          `${file} "${panel.title}"`,
        );
      }
    }
  });

  it('use only valid PromQL, and only recording rules that exist', () => {
    for (const { dashboard, panel, expr } of queries) {
      const names = metricNames(expr);
      for (const name of names.filter((n) => n.includes(':'))) {
        assert.ok(
          recorded.has(name),
          `${dashboard} "${panel}" reads ${name}, which no rule records`,
        );
      }
    }
  });

  it('are provisioned from the folder compose mounts, against the Prometheus datasource', () => {
    const provider = parse(
      readFileSync(`${GRAFANA_DIR}provisioning/dashboards/dashboards.yml`, 'utf8'),
    ) as { providers: { options: { path: string } }[] };
    assert.equal(provider.providers[0]?.options.path, '/var/lib/grafana/dashboards');
    const datasources = parse(
      readFileSync(`${GRAFANA_DIR}provisioning/datasources/datasources.yml`, 'utf8'),
    ) as { datasources: { uid: string; url: string }[] };
    const prometheus = datasources.datasources.find((d) => d.uid === 'prometheus');
    assert.equal(prometheus?.url, 'http://prometheus:9090');
    for (const [file, dashboard] of dashboards) {
      const uids = JSON.stringify(dashboard).match(/"uid":\s*"([^"]+)"/g) ?? [];
      for (const uid of uids) {
        const value = /"uid":\s*"([^"]+)"/.exec(uid)![1]!;
        assert.ok(
          value === dashboard.uid || value === 'prometheus',
          `${file} refers to datasource ${value}`,
        );
      }
    }
  });
});
