{{/* The pod template every service runs, in a Deployment or an Argo Rollout. */}}
{{- define "flotilla.podTemplate" -}}
metadata:
  labels:
    {{- include "flotilla.podSelectorLabels" . | nindent 4 }}
    app.kubernetes.io/version: {{ include "flotilla.imageTag" . | quote }}
  annotations:
    checksum/config: {{ include "flotilla.configMapData" . | sha256sum }}
    {{- with .Values.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "flotilla.name" . }}
  automountServiceAccountToken: false
  terminationGracePeriodSeconds: {{ include "flotilla.terminationGracePeriod" . }}
  securityContext:
    runAsNonRoot: true
    runAsUser: 10001
    runAsGroup: 10001
    fsGroup: 10001
    seccompProfile:
      type: RuntimeDefault
  topologySpreadConstraints:
    - maxSkew: 1
      topologyKey: topology.kubernetes.io/zone
      whenUnsatisfiable: ScheduleAnyway
      labelSelector:
        matchLabels:
          {{- include "flotilla.selectorLabels" . | nindent 10 }}
          app.kubernetes.io/component: server
    - maxSkew: 1
      topologyKey: kubernetes.io/hostname
      whenUnsatisfiable: ScheduleAnyway
      labelSelector:
        matchLabels:
          {{- include "flotilla.selectorLabels" . | nindent 10 }}
          app.kubernetes.io/component: server
  containers:
    - name: {{ include "flotilla.name" . }}
      image: {{ include "flotilla.image" . }}
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      ports:
        - name: http
          containerPort: {{ .Values.port }}
          protocol: TCP
      envFrom:
        - configMapRef:
            name: {{ include "flotilla.name" . }}
        - secretRef:
            name: {{ include "flotilla.secretName" . }}
      startupProbe:
        httpGet:
          path: /health
          port: http
        periodSeconds: 2
        failureThreshold: 30
      livenessProbe:
        httpGet:
          path: /health
          port: http
        periodSeconds: 10
        timeoutSeconds: 2
        failureThreshold: 3
      readinessProbe:
        httpGet:
          path: /ready
          port: http
        periodSeconds: 5
        timeoutSeconds: 2
        failureThreshold: 2
      lifecycle:
        preStop:
          exec:
            # Endpoints are removed asynchronously: keep serving until load balancers have noticed.
            command: ["sleep", "{{ .Values.shutdown.preStopSeconds }}"]
      resources:
        {{- toYaml .Values.resources | nindent 8 }}
      securityContext:
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        privileged: false
        capabilities:
          drop: ["ALL"]
      volumeMounts:
        - name: tmp
          mountPath: /tmp
  volumes:
    - name: tmp
      emptyDir:
        sizeLimit: 64Mi
{{- end -}}

{{/* Non-secret settings: the chart's fixed ones, then `env` from values. */}}
{{- define "flotilla.configMapData" -}}
PORT: {{ .Values.port | quote }}
ADMIN_PORT: {{ .Values.adminPort | quote }}
SERVICE_VERSION: {{ include "flotilla.imageTag" . | default "digest" | quote }}
SHUTDOWN_DRAIN_DELAY_MS: {{ .Values.shutdown.drainDelayMs | quote }}
SHUTDOWN_TIMEOUT_MS: {{ .Values.shutdown.timeoutMs | quote }}
{{- range $key, $value := .Values.env }}
{{ $key }}: {{ $value | quote }}
{{- end }}
{{- end -}}
