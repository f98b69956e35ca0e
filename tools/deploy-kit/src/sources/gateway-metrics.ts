import { figuresOf, increase, type Sample } from '../core/analysis.ts';
import type { AnalysisSource, Measured } from '../platforms/platform.ts';

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** The samples of a Prometheus text exposition: metric name, labels, value. */
export function parseExposition(
  text: string,
): { name: string; labels: Record<string, string>; value: number }[] {
  const samples = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line.trim()) continue;
    const match = SAMPLE_LINE.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(LABEL)) {
      labels[key!] = value!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/**
 * What the gateway has counted for one version of an upstream so far: its requests by status
 * (`gateway_upstream_requests_total`) and its latency histogram
 * (`gateway_upstream_request_duration_seconds`), both cumulative.
 */
export function sampleOf(text: string, upstream: string, version: string): Sample {
  const statuses: Record<string, number> = {};
  const buckets = new Map<number, number>();
  for (const s of parseExposition(text)) {
    if (s.labels['upstream'] !== upstream || s.labels['version'] !== version) continue;
    if (s.name === 'gateway_upstream_requests_total') {
      const status = s.labels['status_code'] ?? '';
      statuses[status] = (statuses[status] ?? 0) + s.value;
    } else if (s.name === 'gateway_upstream_request_duration_seconds_bucket') {
      const le = s.labels['le'] === '+Inf' ? Infinity : Number(s.labels['le']);
      buckets.set(le, (buckets.get(le) ?? 0) + s.value);
    }
  }
  return {
    statuses,
    latency: {
      buckets: [...buckets].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le),
    },
  };
}

/**
 * Reads the new version's traffic straight from the gateway's `/metrics`: the same counters the
 * charts' Prometheus analysis queries, differenced between the start and the end of the window.
 */
export function gatewayMetricsSource(metricsUrl: () => Promise<string>): AnalysisSource {
  const scrape = async (upstream: string, version: string): Promise<Sample> => {
    const url = await metricsUrl();
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`${url} answered ${res.status}`);
    return sampleOf(await res.text(), upstream, version);
  };
  return {
    async begin(service, label) {
      return { service, label, sample: await scrape(service, label) };
    },
    async end(mark): Promise<Measured> {
      const { service, label, sample } = mark as { service: string; label: string; sample: Sample };
      return figuresOf(increase(sample, await scrape(service, label)));
    },
  };
}
