{{/* Name of a service's objects: the chart name (user-service, gateway, ...). */}}
{{- define "flotilla.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "flotilla.labels" -}}
app.kubernetes.io/name: {{ include "flotilla.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ include "flotilla.imageTag" . | quote }}
app.kubernetes.io/part-of: flotilla
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "flotilla.selectorLabels" -}}
app.kubernetes.io/name: {{ include "flotilla.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/*
The labels a workload selects its pods by. Flagger renames the value of `app` for the primary
pods it makes (`<name>-primary`), so that app.kubernetes.io/name, which the disruption budget and
the network policies select, stays the same on both.
*/}}
{{- define "flotilla.podSelectorLabels" -}}
{{ include "flotilla.selectorLabels" . }}
app.kubernetes.io/component: server
{{- if eq .Values.strategy.type "flagger" }}
app: {{ include "flotilla.name" . }}
{{- end }}
{{- end -}}

{{- define "flotilla.environment" -}}
{{- .Values.global.environment | default "dev" -}}
{{- end -}}

{{/* The image tag: the service's own, else the release's (global.imageTag), else the chart's appVersion. */}}
{{- define "flotilla.imageTag" -}}
{{- .Values.image.tag | default .Values.global.imageTag | default .Chart.AppVersion | default "" -}}
{{- end -}}

{{/*
The image reference. Only dev may run `latest`; production refuses every mutable tag: it needs a
digest or a commit-id tag (the tags `nx docker-build` makes), never a branch or a bare version.
*/}}
{{- define "flotilla.image" -}}
{{- $repository := .Values.image.repository | default (printf "%s/%s" (.Values.global.imageRegistry | default "flotilla") (include "flotilla.name" .)) -}}
{{- $tag := include "flotilla.imageTag" . -}}
{{- $digest := .Values.image.digest | default "" -}}
{{- $environment := include "flotilla.environment" . -}}
{{- if and (ne $environment "dev") (eq $tag "latest") (not $digest) -}}
{{- fail (printf "%s: the latest tag is for dev only; %s needs a commit-id tag or a digest" (include "flotilla.name" .) $environment) -}}
{{- end -}}
{{- if and (eq $environment "production") (not $digest) (not (regexMatch "^[0-9a-f]{7,40}$" $tag)) -}}
{{- fail (printf "%s: production needs an immutable image: set image.digest or a commit-id tag (got tag %q)" (include "flotilla.name" .) $tag) -}}
{{- end -}}
{{- if and (not $tag) (not $digest) -}}
{{- fail (printf "%s: set image.tag (or global.imageTag) or image.digest" (include "flotilla.name" .)) -}}
{{- end -}}
{{- if $digest -}}
{{- printf "%s@%s" $repository $digest -}}
{{- else -}}
{{- printf "%s:%s" $repository $tag -}}
{{- end -}}
{{- end -}}

{{/* Argo Rollouts replaces the Deployment for the blueGreen and canary strategies. */}}
{{- define "flotilla.usesRollout" -}}
{{- if has .Values.strategy.type (list "blueGreen" "canary") -}}true{{- end -}}
{{- end -}}

{{/* Seconds Kubernetes waits after SIGTERM: the preStop wait plus the service's own drain and hard limit. */}}
{{- define "flotilla.terminationGracePeriod" -}}
{{- $drain := int .Values.shutdown.drainDelayMs -}}
{{- $limit := int .Values.shutdown.timeoutMs -}}
{{- add (int .Values.shutdown.preStopSeconds) (div (add $drain $limit) 1000) 5 -}}
{{- end -}}

{{- define "flotilla.secretName" -}}
{{- .Values.secrets.existingSecret | default (printf "%s-secrets" (include "flotilla.name" .)) -}}
{{- end -}}
