import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export const PROMETHEUS_DIR = fileURLToPath(new URL('../prometheus/', import.meta.url));
export const GRAFANA_DIR = fileURLToPath(new URL('../grafana/', import.meta.url));

export interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** Every rule of deploy/prometheus/rules/*.yml. */
export function loadRules(): Rule[] {
  const dir = join(PROMETHEUS_DIR, 'rules');
  return readdirSync(dir)
    .filter((file) => file.endsWith('.yml'))
    .flatMap((file) => {
      const doc = parse(readFileSync(join(dir, file), 'utf8')) as { groups: { rules: Rule[] }[] };
      return doc.groups.flatMap((group) => group.rules);
    });
}

export interface DashboardQuery {
  dashboard: string;
  panel: string;
  expr: string;
}

interface Dashboard {
  uid: string;
  title: string;
  panels: { title: string; targets?: { expr?: string }[] }[];
}

/** Every Grafana dashboard in deploy/grafana/dashboards, by file name. */
export function loadDashboards(): Map<string, Dashboard> {
  const dir = join(GRAFANA_DIR, 'dashboards');
  return new Map(
    readdirSync(dir)
      .filter((file) => file.endsWith('.json'))
      .map((file) => [file, JSON.parse(readFileSync(join(dir, file), 'utf8')) as Dashboard]),
  );
}

/**
 * Every panel query, with Grafana's variables replaced by values Prometheus accepts
 * (`$__rate_interval` -> `1m`, `$service` -> `.*`), so the query can be parsed or run as is.
 */
export function dashboardQueries(): DashboardQuery[] {
  return [...loadDashboards()].flatMap(([file, dashboard]) =>
    dashboard.panels.flatMap((panel) =>
      (panel.targets ?? []).map((target) => ({
        dashboard: file,
        panel: panel.title,
        expr: (target.expr ?? '').replaceAll('$__rate_interval', '1m').replace(/\$\w+/g, '.*'),
      })),
    ),
  );
}
