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
      {{- include "flotilla.selectorLabels" . | nindent 6 }}
      app.kubernetes.io/component: server
  template:
    {{- include "flotilla.podTemplate" . | nindent 4 }}
  {{- if eq .Values.strategy.type "rolling" }}
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
from Prometheus, at the thresholds of the Prometheus alert rules (libs/promql SLO).
*/}}
{{- define "flotilla.analysisTemplate" -}}
{{- $name := include "flotilla.name" . -}}
{{- $selector := printf "service=\"%s\",rollouts_pod_template_hash=\"{{args.pod-template-hash}}\",route!~\"/health|/ready|/metrics\"" $name -}}
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
      interval: {{ .Values.analysis.interval }}
      count: {{ .Values.analysis.count }}
      failureLimit: {{ .Values.analysis.failureLimit }}
      # No traffic (no result, or NaN) meets neither condition: the step is inconclusive, not passed.
      successCondition: "len(result) > 0 && result[0] >= {{ .Values.analysis.minSuccessRate }}"
      failureCondition: "len(result) > 0 && result[0] < {{ .Values.analysis.minSuccessRate }}"
      provider:
        prometheus:
          address: {{ .Values.global.prometheusUrl }}
          query: |
            sum(rate(http_server_requests_total{ {{- $selector -}} ,status_code!~"5.."}[{{ .Values.analysis.window }}]))
            / sum(rate(http_server_requests_total{ {{- $selector -}} }[{{ .Values.analysis.window }}]))
    - name: p99-latency
      interval: {{ .Values.analysis.interval }}
      count: {{ .Values.analysis.count }}
      failureLimit: {{ .Values.analysis.failureLimit }}
      successCondition: "len(result) > 0 && result[0] <= {{ .Values.analysis.maxP99Seconds }}"
      failureCondition: "len(result) > 0 && result[0] > {{ .Values.analysis.maxP99Seconds }}"
      provider:
        prometheus:
          address: {{ .Values.global.prometheusUrl }}
          query: |
            histogram_quantile(0.99, sum by (le) (rate(http_server_request_duration_seconds_bucket{ {{- $selector -}} }[{{ .Values.analysis.window }}])))
{{- end -}}
