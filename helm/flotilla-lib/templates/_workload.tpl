{{/* Deployment (rolling) or Argo Rollout (blueGreen, canary) of a service. */}}
{{- define "flotilla.workload" -}}
{{- $name := include "flotilla.name" . -}}
{{- if include "flotilla.usesRollout" . }}
apiVersion: argoproj.io/v1alpha1
kind: Rollout
{{- else }}
apiVersion: apps/v1
kind: Deployment
{{- end }}
metadata:
  name: {{ $name }}
  labels:
    {{- include "flotilla.labels" . | nindent 4 }}
spec:
  {{- if not .Values.autoscaling.enabled }}
  replicas: {{ .Values.replicaCount }}
  {{- end }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- include "flotilla.podSelectorLabels" . | nindent 6 }}
  template:
    {{- include "flotilla.podTemplate" . | nindent 4 }}
  {{- if has .Values.strategy.type (list "rolling" "flagger") }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: {{ .Values.strategy.rolling.maxSurge }}
      maxUnavailable: {{ .Values.strategy.rolling.maxUnavailable }}
  {{- else if eq .Values.strategy.type "blueGreen" }}
  strategy:
    blueGreen:
      activeService: {{ $name }}
      previewService: {{ $name }}-preview
      autoPromotionEnabled: {{ .Values.strategy.blueGreen.autoPromotionEnabled }}
      scaleDownDelaySeconds: {{ .Values.strategy.blueGreen.scaleDownDelaySeconds }}
      prePromotionAnalysis:
        templates:
          - templateName: {{ $name }}-analysis
        args:
          - name: pod-template-hash
            valueFrom:
              podTemplateHashValue: Latest
  {{- else if eq .Values.strategy.type "canary" }}
  strategy:
    canary:
      {{- if .Values.istio.enabled }}
      canaryService: {{ $name }}-canary
      stableService: {{ $name }}
      trafficRouting:
        istio:
          virtualService:
            name: {{ $name }}
            routes:
              - primary
          destinationRule:
            name: {{ $name }}
            canarySubsetName: canary
            stableSubsetName: stable
      {{- end }}
      analysis:
        templates:
          - templateName: {{ $name }}-analysis
        startingStep: 1
        args:
          - name: pod-template-hash
            valueFrom:
              podTemplateHashValue: Latest
      steps:
        {{- toYaml .Values.strategy.canary.steps | nindent 8 }}
  {{- end }}
{{- end -}}

{{/*
The analysis a blueGreen or canary release must pass: the new pods' success rate and p99 latency
from Prometheus, at the thresholds of the Prometheus alert rules (libs/promql SLO). It measures
what the new pods serve, selected by their pod-template hash: in a canary their share of the
traffic; in blue-green only what is sent to the preview Service (the deploy kit's smoke test and
the load it sends there while the release is previewed). Fewer than minRequests requests in a
window is inconclusive, never passed; the first measurement waits initialDelay, so that the new
pods have been scraped over a window.
*/}}
{{- define "flotilla.analysisTemplate" -}}
{{- $name := include "flotilla.name" . -}}
{{- $a := .Values.analysis -}}
{{- $selector := printf "service=\"%s\",rollouts_pod_template_hash=\"{{args.pod-template-hash}}\",route!~\"/health|/ready|/metrics\"" $name -}}
{{- $enough := printf "sum(increase(http_server_requests_total{%s}[%s])) >= %d" $selector $a.window (int $a.minRequests) -}}
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: {{ $name }}-analysis
  labels:
    {{- include "flotilla.labels" . | nindent 4 }}
spec:
  args:
    - name: pod-template-hash
  metrics:
    - name: success-rate
      initialDelay: {{ $a.initialDelay }}
      interval: {{ $a.interval }}
      count: {{ $a.count }}
      failureLimit: {{ $a.failureLimit }}
      inconclusiveLimit: {{ $a.inconclusiveLimit }}
      # Too little traffic (no result: the query keeps only windows with minRequests) meets
      # neither condition: the measurement is inconclusive, not passed.
      successCondition: "len(result) > 0 && result[0] >= {{ $a.minSuccessRate }}"
      failureCondition: "len(result) > 0 && result[0] < {{ $a.minSuccessRate }}"
      provider:
        prometheus:
          address: {{ .Values.global.prometheusUrl }}
          query: |
            (
              sum(rate(http_server_requests_total{ {{- $selector -}} ,status_code!~"5.."}[{{ $a.window }}]))
              / sum(rate(http_server_requests_total{ {{- $selector -}} }[{{ $a.window }}]))
            ) and on() ({{ $enough }})
    - name: p99-latency
      initialDelay: {{ $a.initialDelay }}
      interval: {{ $a.interval }}
      count: {{ $a.count }}
      failureLimit: {{ $a.failureLimit }}
      inconclusiveLimit: {{ $a.inconclusiveLimit }}
      successCondition: "len(result) > 0 && result[0] <= {{ $a.maxP99Seconds }}"
      failureCondition: "len(result) > 0 && result[0] > {{ $a.maxP99Seconds }}"
      provider:
        prometheus:
          address: {{ .Values.global.prometheusUrl }}
          query: |
            histogram_quantile(0.99, sum by (le) (rate(http_server_request_duration_seconds_bucket{ {{- $selector -}} }[{{ $a.window }}])))
            and on() ({{ $enough }})
{{- end -}}

{{/*
Flagger (strategy flagger): a Canary that drives the Deployment. Flagger makes <name>-primary
(the stable pods), the Services <name> (to the primary), <name>-primary and <name>-canary, and
moves stepWeight of the traffic to the canary at every interval in which the analysis passes:
the canary pods' success rate (percent) and p99 latency (milliseconds) at the SLO thresholds,
the same as the seed's request-success-rate 99 and request-duration 500.
*/}}
{{- define "flotilla.flaggerCanary" -}}
{{- $name := include "flotilla.name" . -}}
{{- $f := .Values.strategy.flagger -}}
apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: {{ $name }}
  labels:
    {{- include "flotilla.labels" . | nindent 4 }}
spec:
  provider: {{ ternary "istio" $f.provider .Values.istio.enabled }}
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ $name }}
  {{- if .Values.autoscaling.enabled }}
  autoscalerRef:
    apiVersion: autoscaling/v2
    kind: HorizontalPodAutoscaler
    name: {{ $name }}
  {{- end }}
  progressDeadlineSeconds: 600
  service:
    port: {{ .Values.port }}
    targetPort: http
    portName: http
  analysis:
    interval: {{ $f.interval }}
    threshold: {{ $f.threshold }}
    maxWeight: {{ $f.maxWeight }}
    stepWeight: {{ $f.stepWeight }}
    metrics:
      - name: success-rate
        templateRef:
          name: {{ $name }}-success-rate
        thresholdRange:
          min: {{ mulf .Values.analysis.minSuccessRate 100 }}
        interval: {{ .Values.analysis.window }}
      - name: p99-latency
        templateRef:
          name: {{ $name }}-p99-latency
        thresholdRange:
          max: {{ mulf .Values.analysis.maxP99Seconds 1000 }}
        interval: {{ .Values.analysis.window }}
{{- end -}}

{{/* The queries of the Flagger Canary's analysis; Flagger fills in namespace, target and interval. */}}
{{- define "flotilla.flaggerMetricTemplates" -}}
{{- $name := include "flotilla.name" . -}}
{{- $selector := printf "service=\"%s\",namespace=\"{{ namespace }}\",pod=~\"{{ target }}-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)\",route!~\"/health|/ready|/metrics\"" $name -}}
apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata:
  name: {{ $name }}-success-rate
  labels:
    {{- include "flotilla.labels" . | nindent 4 }}
spec:
  provider:
    type: prometheus
    address: {{ .Values.global.prometheusUrl }}
  query: |
    100 * sum(rate(http_server_requests_total{ {{- $selector -}} ,status_code!~"5.."}[{{ "{{ interval }}" }}]))
    / sum(rate(http_server_requests_total{ {{- $selector -}} }[{{ "{{ interval }}" }}]))
---
apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata:
  name: {{ $name }}-p99-latency
  labels:
    {{- include "flotilla.labels" . | nindent 4 }}
spec:
  provider:
    type: prometheus
    address: {{ .Values.global.prometheusUrl }}
  query: |
    1000 * histogram_quantile(0.99, sum by (le) (rate(http_server_request_duration_seconds_bucket{ {{- $selector -}} }[{{ "{{ interval }}" }}])))
{{- end -}}
