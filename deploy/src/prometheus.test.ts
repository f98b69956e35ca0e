import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  SLO,
  gatewayP99Latency,
  gatewayRequestRate,
  gatewaySuccessRate,
  serviceP99Latency,
  serviceRequestRate,
  serviceSuccessRate,
} from '@flotilla/promql';
import { PROMETHEUS_DIR, loadRules } from './observability.ts';

/** Runs promtool (Debian package `prometheus`) in deploy/prometheus. */
function promtool(...args: string[]) {
  const result = spawnSync('promtool', args, { cwd: PROMETHEUS_DIR, encoding: 'utf8' });
  if (result.error) {
    throw new Error('promtool is missing: apt-get install prometheus (it ships promtool)', {
      cause: result.error,
    });
  }
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('promtool', () => {
  it('accepts the scrape config and the rules it loads', () => {
    const { code, output } = promtool('check', 'config', 'prometheus.yml');
    assert.equal(code, 0, output);
    assert.match(output, /SUCCESS: 13 rules found/);
  });

  it('passes the alert unit tests', () => {
    const { code, output } = promtool('test', 'rules', 'tests/flotilla.rules.test.yml');
    assert.equal(code, 0, output);
  });

  it('rejects a broken rule, so the checks above can fail', () => {
    const dir = mkdtempSync(join(tmpdir(), 'flotilla-rules-'));
    try {
      const file = join(dir, 'broken.yml');
      writeFileSync(
        file,
        'groups:\n  - name: broken\n    rules:\n      - alert: Broken\n        expr: sum(rate(x[5m])\n',
      );
      const { code, output } = promtool('check', 'rules', file);
      assert.notEqual(code, 0);
      assert.match(output, /parse error/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the rules are built from @flotilla/promql', () => {
  const rules = loadRules();
  const recorded = new Map(rules.filter((r) => r.record).map((r) => [r.record!, r.expr]));
  const alert = (name: string) => {
    const rule = rules.find((r) => r.alert === name);
    assert.ok(rule, `no alert ${name}`);
    return rule;
  };
  const by = ['upstream', 'version'] as const;

  it('records exactly the queries the canary analysis and dashboards use', () => {
    assert.deepEqual(Object.fromEntries(recorded), {
      'service:http_server_success_ratio:rate5m': serviceSuccessRate('5m'),
      'service:http_server_requests:rate5m': serviceRequestRate('5m'),
      'service:http_server_request_duration_seconds:p99_5m': serviceP99Latency('5m'),
      'upstream_version:gateway_success_ratio:rate1m': gatewaySuccessRate({ window: '1m', by }),
      'upstream_version:gateway_requests:rate1m': gatewayRequestRate({ window: '1m', by }),
      'upstream_version:gateway_request_duration_seconds:p99_1m': gatewayP99Latency({
        window: '1m',
        by,
      }),
    });
  });

  it('alerts at the SLO thresholds', () => {
    const rate = `> ${SLO.minRequestRate}`;
    assert.equal(
      alert('FlotillaHighErrorRate').expr,
      `service:http_server_success_ratio:rate5m < ${SLO.minSuccessRate} and service:http_server_requests:rate5m ${rate}`,
    );
    assert.equal(
      alert('FlotillaHighLatency').expr,
      `service:http_server_request_duration_seconds:p99_5m > ${SLO.maxP99Seconds} and service:http_server_requests:rate5m ${rate}`,
    );
    assert.equal(
      alert('FlotillaUpstreamVersionFailing').expr,
      `upstream_version:gateway_success_ratio:rate1m < ${SLO.minSuccessRate} and upstream_version:gateway_requests:rate1m ${rate}`,
    );
  });

  it('covers errors, latency, instances down, saturation and open circuits', () => {
    const alerts = rules.filter((r) => r.alert).map((r) => r.alert);
    for (const name of [
      'FlotillaHighErrorRate',
      'FlotillaHighLatency',
      'FlotillaUpstreamVersionFailing',
      'FlotillaInstanceDown',
      'FlotillaDbPoolSaturated',
      'FlotillaEventLoopLag',
      'FlotillaCircuitOpen',
    ])
      assert.ok(alerts.includes(name), `${name} is missing`);
  });

  it('gives every alert a severity and a runbook section that exists', () => {
    const runbook = readFileSync(new URL('../../docs/alerts.md', import.meta.url), 'utf8');
    for (const rule of rules.filter((r) => r.alert)) {
      assert.match(rule.labels?.['severity'] ?? '', /^(page|ticket)$/, rule.alert);
      const anchor = rule.annotations?.['runbook']?.split('#')[1] ?? '';
      assert.ok(
        runbook.includes(`## ${rule.alert}`) && anchor === rule.alert!.toLowerCase(),
        `docs/alerts.md has no section for ${rule.alert}`,
      );
    }
  });
});
