import { SpanStatusCode, context, trace, type Span } from '@opentelemetry/api';
import { Gauge, Pushgateway, Registry } from 'prom-client';
import type { ReleaseRecord } from '../core/ledger.ts';
import type { ReleasePlan } from '../core/plan.ts';
import type { ReleaseEvent } from './runner.ts';

const tracer = trace.getTracer('flotilla-deploy');

/**
 * A release as a trace: one span for the release, one child span per step (with its figures) and
 * one for a rollback. Exported wherever the OpenTelemetry SDK sends spans
 * (OTEL_EXPORTER_OTLP_ENDPOINT); a no-op without it.
 */
export function releaseTrace(plan: ReleasePlan) {
  const release = tracer.startSpan(`release ${plan.service} to ${plan.environment}`, {
    attributes: {
      'flotilla.service': plan.service,
      'flotilla.environment': plan.environment,
      'flotilla.version': plan.artefact.version,
      'flotilla.label': plan.label,
      'flotilla.strategy': plan.strategy,
      'flotilla.purpose': plan.purpose,
      'flotilla.platform': plan.platform,
    },
  });
  const parent = trace.setSpan(context.active(), release);
  const steps = new Map<number, Span>();
  let rollback: Span | undefined;

  const onEvent = (event: ReleaseEvent) => {
    if (event.type === 'step') {
      let span = steps.get(event.index);
      if (!span) {
        span = tracer.startSpan(
          `${event.step.kind} ${event.step.title}`,
          { attributes: { 'flotilla.step': event.step.kind } },
          parent,
        );
        steps.set(event.index, span);
      }
      if (event.figures && event.detail) {
        span.addEvent('measurement', {
          weight: event.figures.weight,
          ...(event.figures.requests === undefined ? {} : { requests: event.figures.requests }),
          ...(event.figures.successRate === undefined
            ? {}
            : { success_rate: event.figures.successRate }),
          ...(event.figures.p99Seconds === undefined
            ? {}
            : { p99_seconds: event.figures.p99Seconds }),
          verdict: event.figures.verdict,
        });
      }
      if (event.status !== 'running') {
        if (event.status === 'failed')
          span.setStatus({ code: SpanStatusCode.ERROR, message: event.detail ?? 'failed' });
        span.end();
      }
    } else if (event.type === 'rollback') {
      if (event.status === 'running') {
        rollback = tracer.startSpan(
          'rollback',
          { attributes: { 'flotilla.reason': event.reason } },
          parent,
        );
      } else {
        if (event.status === 'failed')
          rollback?.setStatus({ code: SpanStatusCode.ERROR, message: event.detail ?? '' });
        rollback?.end();
      }
    } else if (event.type === 'end') {
      release.setAttribute('flotilla.result', event.release.result);
      if (event.release.result !== 'released') {
        release.setStatus({
          code: SpanStatusCode.ERROR,
          message: event.release.reason ?? event.release.result,
        });
      }
      release.end();
    }
  };
  return { onEvent, context: parent };
}

/** The delivery metrics of one service in one environment, from its whole ledger. */
export function deliveryMetrics(history: readonly ReleaseRecord[]) {
  const finished = history.filter((r) => r.result !== 'in-progress');
  const byResult = new Map<string, number>();
  for (const r of finished) byResult.set(r.result, (byResult.get(r.result) ?? 0) + 1);
  // Time to restore: from a release that did not hold to the next one that did.
  let restores = 0;
  let restoreSeconds = 0;
  let brokeAt: number | undefined;
  for (const r of finished) {
    const at = Date.parse(r.finishedAt ?? r.startedAt);
    if (r.result === 'released') {
      if (brokeAt !== undefined) {
        restores++;
        restoreSeconds += (at - brokeAt) / 1000;
        brokeAt = undefined;
      }
    } else {
      brokeAt ??= Date.parse(r.startedAt);
    }
  }
  const last = finished.at(-1);
  return {
    byResult,
    restores,
    restoreSeconds,
    lastDurationSeconds: last?.durationMs === undefined ? undefined : last.durationMs / 1000,
    lastFinished: last ? Date.parse(last.finishedAt ?? last.startedAt) / 1000 : undefined,
  };
}

/**
 * Pushes a service's delivery metrics to a Prometheus Pushgateway, replacing its group
 * (job `flotilla-deploy`, service, environment): releases by result (deployment frequency and
 * change failure rate), time to restore, the last release's duration. The values are counted from
 * the ledger each time, so a push never double-counts.
 */
export async function pushDeliveryMetrics(
  url: string,
  service: string,
  environment: string,
  history: readonly ReleaseRecord[],
): Promise<void> {
  const registry = new Registry();
  const m = deliveryMetrics(history);
  const gauge = (name: string, help: string, labelNames: string[] = []) =>
    new Gauge({ name, help, labelNames, registers: [registry] });
  const releases = gauge(
    'flotilla_deployments_total',
    'Releases by result, from the ledger (a counter that only grows)',
    ['result'],
  );
  for (const result of ['released', 'rolled-back', 'failed', 'aborted'])
    releases.set({ result }, m.byResult.get(result) ?? 0);
  gauge(
    'flotilla_time_to_restore_seconds_sum',
    'Time from a release that did not hold to the next that did, summed',
  ).set(m.restoreSeconds);
  gauge(
    'flotilla_time_to_restore_seconds_count',
    'Restores counted in flotilla_time_to_restore_seconds_sum',
  ).set(m.restores);
  if (m.lastDurationSeconds !== undefined) {
    gauge('flotilla_deployment_last_duration_seconds', 'Duration of the last release').set(
      m.lastDurationSeconds,
    );
  }
  if (m.lastFinished !== undefined) {
    gauge('flotilla_deployment_last_timestamp_seconds', 'When the last release finished').set(
      m.lastFinished,
    );
  }
  await new Pushgateway(url, { timeout: 5000 }, registry).push({
    jobName: 'flotilla-deploy',
    groupings: { service, environment },
  });
}
