import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from '@flotilla/testing';

/**
 * The metrics of pods that do not run (the cluster's node is simulated): an exporter serving
 * `http_server_requests_total` and its latency histogram for each pod-template hash the test
 * names, growing at 20 requests a second with the share of 5xx it is told; and a real Prometheus
 * scraping it every second. Argo Rollouts' AnalysisRuns query that Prometheus with the chart's own
 * queries, as they would query the cluster's.
 */
export async function startPodMetrics(service: string) {
  const pods = new Map<string, { since: number; failRatio: number }>();
  const exporter: Server = createServer((_req, res) => {
    const lines: string[] = [];
    for (const [hash, pod] of pods) {
      const total = Math.floor(((Date.now() - pod.since) / 1000) * 20);
      const failed = Math.floor(total * pod.failRatio);
      const labels = (status: string) =>
        `service="${service}",rollouts_pod_template_hash="${hash}",route="/orders",status_code="${status}"`;
      lines.push(`http_server_requests_total{${labels('201')}} ${total - failed}`);
      lines.push(`http_server_requests_total{${labels('503')}} ${failed}`);
      for (const [le, share] of [
        ['0.05', 0.9],
        ['0.1', 1],
        ['+Inf', 1],
      ] as const) {
        lines.push(
          `http_server_request_duration_seconds_bucket{${labels('201')},le="${le}"} ${Math.floor(total * share)}`,
        );
      }
    }
    res
      .writeHead(200, { 'content-type': 'text/plain; version=0.0.4' })
      .end(`${lines.join('\n')}\n`);
  });
  await new Promise<void>((resolve) => exporter.listen(0, '127.0.0.1', resolve));
  const exporterPort = (exporter.address() as AddressInfo).port;

  const dir = await mkdtemp(join(tmpdir(), 'flotilla-kit-prometheus-'));
  const port = await freePort();
  await writeFile(
    join(dir, 'prometheus.yml'),
    `global: { scrape_interval: 1s, evaluation_interval: 1s }\nscrape_configs:\n  - job_name: pods\n    honor_labels: true\n    static_configs: [{ targets: ['127.0.0.1:${exporterPort}'] }]\n`,
  );
  let output = '';
  const prometheus: ChildProcess = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  prometheus.stderr?.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-3000)));
  const url = `http://127.0.0.1:${port}`;
  await waitFor('prometheus', async () => {
    if (prometheus.exitCode !== null) throw new Error(`prometheus exited: ${output}`);
    if (!(await fetch(`${url}/-/ready`)).ok) throw new Error('not ready');
  });
  return {
    url,
    /** Pods of this template hash start answering, `failRatio` of their requests with a 503. */
    serve(hash: string, failRatio: number): void {
      pods.set(hash, { since: Date.now() - 30_000, failRatio });
    },
    async stop(): Promise<void> {
      if (prometheus.exitCode === null) {
        const exited = once(prometheus, 'exit');
        prometheus.kill('SIGTERM');
        await exited;
      }
      exporter.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
