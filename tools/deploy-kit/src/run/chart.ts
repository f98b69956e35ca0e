import { View, parse } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { analysisRows } from '../core/format.ts';
import type { ReleaseRecord } from '../core/ledger.ts';

/**
 * The release's measurements as a chart: success rate (bars, left axis) and p99 (line, right
 * axis) per measurement, with the thresholds drawn across. Vega-Lite compiles the spec; Vega
 * renders the SVG headless. Undefined when the release measured nothing.
 */
export async function releaseChart(
  release: ReleaseRecord,
  thresholds: { minSuccessRate: number; maxP99Seconds: number },
): Promise<string | undefined> {
  const rows = analysisRows(release).map((row, i) => ({
    measurement: `${i + 1}. ${row.weight}%`,
    success: row.successRate === undefined ? null : Number((row.successRate * 100).toFixed(2)),
    p99: row.p99Seconds === undefined ? null : Math.round(row.p99Seconds * 1000),
    verdict: row.verdict,
  }));
  if (rows.length === 0) return undefined;
  const x = {
    field: 'measurement',
    type: 'ordinal',
    sort: null,
    title: 'measurement (weight)',
    axis: { labelAngle: 0 },
  } as const;
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `${release.service} ${release.label} to ${release.environment}: ${release.result}`,
    width: Math.max(240, rows.length * 60),
    height: 200,
    data: { values: rows },
    layer: [
      {
        layer: [
          {
            mark: { type: 'bar', opacity: 0.75 },
            encoding: {
              x,
              y: {
                field: 'success',
                type: 'quantitative',
                title: 'success rate (%)',
                scale: { domain: [80, 100], clamp: true },
              },
              color: {
                field: 'verdict',
                type: 'nominal',
                scale: {
                  domain: ['passed', 'inconclusive', 'failed'],
                  range: ['#2e7d32', '#9e9e9e', '#c62828'],
                },
              },
            },
          },
          {
            mark: { type: 'rule', strokeDash: [4, 3], color: '#2e7d32' },
            encoding: { y: { datum: thresholds.minSuccessRate * 100, type: 'quantitative' } },
          },
        ],
      },
      {
        layer: [
          {
            mark: { type: 'line', point: true, color: '#1565c0' },
            encoding: { x, y: { field: 'p99', type: 'quantitative', title: 'p99 (ms)' } },
          },
          {
            mark: { type: 'rule', strokeDash: [2, 2], color: '#1565c0' },
            encoding: {
              y: { datum: Math.round(thresholds.maxP99Seconds * 1000), type: 'quantitative' },
            },
          },
        ],
      },
    ],
    resolve: { scale: { y: 'independent' } },
  };
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}
