{{- define "flotilla.serviceAccount" -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "flotilla.name" . }}
  labels:
    {{- include "flotilla.labels" . | nindent 4 }}
automountServiceAccountToken: false
{{- end -}}

{{- define "flotilla.configMap" -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "flotilla.name" . }}
  labels:
    {{- include "flotilla.labels" . | nindent 4 }}
data:
  {{- include "flotilla.configMapData" . | nindent 2 }}
{{- end -}}

{{/* `suffix` "" is the stable (active) Service; "-preview" and "-canary" serve the new version. */}}
{{- define "flotilla.serviceObject" -}}
{{- $ := index . 0 -}}
{{- $suffix := index . 1 -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "flotilla.name" $ }}{{ $suffix }}
  labels:
    {{- include "flotilla.labels" $ | nindent 4 }}
spec:
  type: ClusterIP
  selector:
    {{- include "flotilla.selectorLabels" $ | nindent 4 }}
    app.kubernetes.io/component: server
  ports:
    - name: http
      port: {{ $.Values.port }}
      targetPort: http
      protocol: TCP
{{- end -}}

{{- define "flotilla.hpa" -}}
{{- if .Values.autoscaling.enabled }}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "flotilla.name" . }}
  labels:
    {{- include "flotilla.labels" . | nindent 4 }}
spec:
  scaleTargetRef:
    {{- if include "flotilla.usesRollout" . }}
    apiVersion: argoproj.io/v1alpha1
    kind: Rollout
    {{- else }}
    apiVersion: apps/v1
    kind: Deployment
    {{- end }}
    name: {{ include "flotilla.name" . }}
  minReplicas: {{ .Values.autoscaling.minReplicas }}
  maxReplicas: {{ .Values.autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ .Values.autoscaling.cpuUtilization }}
    - type: Resource
      resource:
        name: memory
        target:
          type: Utilization
          averageUtilization: {{ .Values.autoscaling.memoryUtilization }}
    {{- with .Values.autoscaling.requestsPerSecond }}
    # Served by a metrics adapter (e.g. prometheus-adapter) from http_server_requests_total.
    - type: Pods
      pods:
        metric:
          name: http_server_requests_per_second
        target:
          type: AverageValue
          averageValue: {{ . | quote }}
    {{- end }}
{{- end }}
{{- end -}}

{{- define "flotilla.pdb" -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "flotilla.name" . }}
  labels:
    {{- include "flotilla.labels" . | nindent 4 }}
spec:
  maxUnavailable: {{ .Values.podDisruptionBudget.maxUnavailable }}
  selector:
    matchLabels:
      {{- include "flotilla.selectorLabels" . | nindent 6 }}
      app.kubernetes.io/component: server
{{- end -}}

{{/*
Who may talk to the service and whom it may call. The umbrella chart adds a default deny for the
namespace; this opens exactly the paths the service needs.
*/}}
{{- define "flotilla.networkPolicy" -}}
{{- $ := . -}}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ include "flotilla.name" . }}
  labels:
    {{- include "flotilla.labels" . | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- include "flotilla.selectorLabels" . | nindent 6 }}
  policyTypes: [Ingress, Egress]
  ingress:
    - ports:
        - port: http
          protocol: TCP
      from:
        {{- range .Values.networkPolicy.allowFrom }}
        - podSelector:
            matchLabels:
              app.kubernetes.io/name: {{ . }}
        {{- end }}
        {{- with .Values.networkPolicy.allowFromNamespaces }}
        {{- range . }}
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: {{ . }}
        {{- end }}
        {{- end }}
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: {{ .Values.global.monitoringNamespace }}
  egress:
    - ports:
        - port: 53
          protocol: UDP
        - port: 53
          protocol: TCP
    {{- range .Values.networkPolicy.callsTo }}
    - to:
        - podSelector:
            matchLabels:
              app.kubernetes.io/name: {{ . }}
    {{- end }}
    {{- if .Values.networkPolicy.postgres }}
    - to:
        {{- toYaml $.Values.global.postgres.networkPeers | nindent 8 }}
      ports:
        - port: {{ $.Values.global.postgres.port }}
          protocol: TCP
    {{- end }}
    {{- if .Values.networkPolicy.redis }}
    - to:
        {{- toYaml $.Values.global.redis.networkPeers | nindent 8 }}
      ports:
        - port: {{ $.Values.global.redis.port }}
          protocol: TCP
    {{- end }}
    {{- if .Values.global.otlpEndpoint }}
    - to:
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: {{ .Values.global.monitoringNamespace }}
    {{- end }}
{{- end -}}

{{/*
Scrapes every pod of the service once, whichever Services select it: the blue-green preview pods
(which only the preview Service reaches) as well as the stable ones. The services label their own
series with `service`; the analysis also selects the pods by their pod-template hash.
*/}}
{{- define "flotilla.podMonitor" -}}
apiVersion: monitoring.coreos.com/v1
kind: PodMonitor
metadata:
  name: {{ include "flotilla.name" . }}
  labels:
    {{- include "flotilla.labels" . | nindent 4 }}
spec:
  jobLabel: app.kubernetes.io/name
  selector:
    matchLabels:
      {{- include "flotilla.selectorLabels" . | nindent 6 }}
      app.kubernetes.io/component: server
  podTargetLabels: [rollouts-pod-template-hash]
  podMetricsEndpoints:
    - port: http
      path: /metrics
      interval: 15s
{{- end -}}

{{/* Applies the service's migrations before its pods are installed or upgraded. */}}
{{- define "flotilla.migrationJob" -}}
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ include "flotilla.name" . }}-migrate
  labels:
    {{- include "flotilla.labels" . | nindent 4 }}
    app.kubernetes.io/component: migration
  annotations:
    helm.sh/hook: pre-install,pre-upgrade
    helm.sh/hook-weight: "0"
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
spec:
  backoffLimit: 3
  activeDeadlineSeconds: 600
  ttlSecondsAfterFinished: 3600
  template:
    metadata:
      labels:
        {{- include "flotilla.selectorLabels" . | nindent 8 }}
        app.kubernetes.io/component: migration
    spec:
      restartPolicy: Never
      # The namespace's default account, not the chart's: Helm creates the chart's ServiceAccount
      # only after the pre-install hooks, so a first install would wait for it in vain. The Job
      # needs no API access (no token is mounted).
      serviceAccountName: default
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        runAsGroup: 10001
        seccompProfile:
          type: RuntimeDefault
      containers:
        - name: migrate
          image: {{ include "flotilla.image" . }}
          imagePullPolicy: {{ .Values.image.pullPolicy }}
          args: ["migrate.js"]
          env:
            - name: DATABASE_URL
              valueFrom:
                secretKeyRef:
                  name: {{ include "flotilla.secretName" . }}
                  key: DATABASE_URL
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            privileged: false
            capabilities:
              drop: ["ALL"]
{{- end -}}

{{/* Secrets are never in values: an existing Secret, or one synced by External Secrets. */}}
{{- define "flotilla.externalSecret" -}}
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata:
  name: {{ include "flotilla.secretName" . }}
  labels:
    {{- include "flotilla.labels" . | nindent 4 }}
  annotations:
    # Synced before the migration Job (a pre-install hook) needs it.
    helm.sh/hook: pre-install,pre-upgrade
    helm.sh/hook-weight: "-10"
    helm.sh/hook-delete-policy: before-hook-creation
spec:
  refreshInterval: 1h
  secretStoreRef:
    kind: {{ .Values.secrets.externalSecret.storeKind }}
    name: {{ .Values.secrets.externalSecret.storeName }}
  target:
    name: {{ include "flotilla.secretName" . }}
    creationPolicy: Owner
  data:
    {{- range .Values.secrets.keys }}
    - secretKey: {{ . }}
      remoteRef:
        key: {{ $.Values.secrets.externalSecret.remoteKey | default (printf "flotilla/%s/%s" (include "flotilla.environment" $) (include "flotilla.name" $)) }}
        property: {{ . }}
    {{- end }}
{{- end -}}

{{/* Istio: subsets for the stable and canary pods, and the route whose weights Argo Rollouts sets. */}}
{{- define "flotilla.istio" -}}
{{- $name := include "flotilla.name" . -}}
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: {{ $name }}
  labels:
    {{- include "flotilla.labels" . | nindent 4 }}
spec:
  host: {{ $name }}
  subsets:
    - name: stable
      labels:
        app.kubernetes.io/name: {{ $name }}
    - name: canary
      labels:
        app.kubernetes.io/name: {{ $name }}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: {{ $name }}
  labels:
    {{- include "flotilla.labels" . | nindent 4 }}
spec:
  hosts:
    - {{ $name }}
  http:
    - name: primary
      route:
        - destination:
            host: {{ $name }}
            subset: stable
          weight: 100
        - destination:
            host: {{ $name }}
            subset: canary
          weight: 0
{{- end -}}

{{- define "flotilla.ingress" -}}
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {{ include "flotilla.name" . }}
  labels:
    {{- include "flotilla.labels" . | nindent 4 }}
  {{- with .Values.ingress.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  ingressClassName: {{ .Values.ingress.className }}
  tls:
    - hosts:
        - {{ .Values.ingress.host }}
      secretName: {{ .Values.ingress.tlsSecretName }}
  rules:
    - host: {{ .Values.ingress.host }}
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: {{ include "flotilla.name" . }}
                port:
                  name: http
{{- end -}}

{{/* Everything a service chart renders; its templates/service.yaml is this one include. */}}
{{- define "flotilla.service" -}}
{{- include "flotilla.serviceAccount" . }}
---
{{ include "flotilla.configMap" . }}
{{- if ne .Values.strategy.type "flagger" }}
---
{{ include "flotilla.serviceObject" (list . "") }}
{{- end }}
{{- if eq .Values.strategy.type "blueGreen" }}
---
{{ include "flotilla.serviceObject" (list . "-preview") }}
{{- end }}
{{- if and (eq .Values.strategy.type "canary") .Values.istio.enabled }}
---
{{ include "flotilla.serviceObject" (list . "-canary") }}
---
{{ include "flotilla.istio" . }}
{{- end }}
---
{{ include "flotilla.workload" . }}
{{- if include "flotilla.usesRollout" . }}
---
{{ include "flotilla.analysisTemplate" . }}
{{- end }}
{{- if eq .Values.strategy.type "flagger" }}
---
{{ include "flotilla.flaggerCanary" . }}
---
{{ include "flotilla.flaggerMetricTemplates" . }}
{{- end }}
{{- if .Values.autoscaling.enabled }}
---
{{ include "flotilla.hpa" . }}
{{- end }}
---
{{ include "flotilla.pdb" . }}
---
{{ include "flotilla.networkPolicy" . }}
{{- if .Values.podMonitor.enabled }}
---
{{ include "flotilla.podMonitor" . }}
{{- end }}
{{- if .Values.migration.enabled }}
---
{{ include "flotilla.migrationJob" . }}
{{- end }}
{{- if .Values.secrets.externalSecret.enabled }}
---
{{ include "flotilla.externalSecret" . }}
{{- end }}
{{- if and .Values.ingress .Values.ingress.enabled }}
---
{{ include "flotilla.ingress" . }}
{{- end }}
{{- end -}}
