{{/* Names */}}
{{- define "hangar.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "hangar.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The services the chart runs: values key, port, and whether they serve /health and /metrics. */}}
{{- define "hangar.components" -}}
gateway:
  key: gateway
  port: 4005
  portEnv: GATEWAY_PORT
  health: true
websocket-pool:
  key: websocketPool
  port: 4006
  portEnv: WEBSOCKET_POOL_PORT
  health: true
orchestrator:
  key: orchestrator
  port: 4007
  portEnv: ORCHESTRATOR_PORT
  health: true
agent-runner:
  key: agentRunner
  port: 4008
  portEnv: AGENT_RUNNER_PORT
  health: true
metrics:
  key: metrics
  port: 4009
  portEnv: METRICS_PORT
  health: true
dashboard:
  key: dashboard
  port: 3000
  # `next start` (the dashboard image's command) reads PORT.
  portEnv: PORT
  health: false
{{- end -}}

{{- define "hangar.labels" -}}
{{- $root := index . 0 -}}
{{- $component := index . 1 -}}
helm.sh/chart: {{ printf "%s-%s" $root.Chart.Name $root.Chart.Version | replace "+" "_" }}
app.kubernetes.io/managed-by: {{ $root.Release.Service }}
app.kubernetes.io/part-of: hangar
app.kubernetes.io/version: {{ $root.Chart.AppVersion | quote }}
{{ include "hangar.selectorLabels" (list $root $component) }}
{{- end -}}

{{- define "hangar.selectorLabels" -}}
{{- $root := index . 0 -}}
{{- $component := index . 1 -}}
app.kubernetes.io/name: {{ include "hangar.name" $root }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ $component }}
{{- end -}}

{{- define "hangar.imageTag" -}}
{{- default .Chart.AppVersion .Values.image.tag -}}
{{- end -}}

{{/* <registry>/hangar-<component>:<tag> */}}
{{- define "hangar.image" -}}
{{- $root := index . 0 -}}
{{- $component := index . 1 -}}
{{- printf "%s/hangar-%s:%s" (trimSuffix "/" $root.Values.image.registry) $component (include "hangar.imageTag" $root) -}}
{{- end -}}

{{/* Task Jobs run in a namespace of their own unless told otherwise: <release namespace>-tasks. */}}
{{- define "hangar.jobsNamespace" -}}
{{- default (printf "%s-tasks" .Release.Namespace) .Values.agentRunner.jobs.namespace -}}
{{- end -}}

{{/* The port of the agent-runner's endpoints for agents and task pods (RUNNER_TASK_API_PORT). */}}
{{- define "hangar.taskApiPort" -}}4011{{- end -}}

{{/* How task pods reach the controller's task API: its Service, by namespace-qualified name. */}}
{{- define "hangar.taskApiUrl" -}}
{{- printf "http://%s-agent-runner.%s.svc:%s" (include "hangar.fullname" .) .Release.Namespace (include "hangar.taskApiPort" .) -}}
{{- end -}}

{{/* The runner pods make a bubblewrap sandbox per agent (process executor, agentRunner.sandbox=bwrap). */}}
{{- define "hangar.runnerSandboxed" -}}
{{- if and (eq .Values.agentRunner.executor "process") (eq .Values.agentRunner.sandbox "bwrap") -}}true{{- end -}}
{{- end -}}

{{- define "hangar.runnerServiceAccount" -}}
{{- printf "%s-agent-runner" (include "hangar.fullname" .) -}}
{{- end -}}

{{- define "hangar.tlsSecretName" -}}
{{- default (printf "%s-tls" (include "hangar.fullname" .)) .Values.ingress.tls.secretName -}}
{{- end -}}

{{- define "hangar.tlsEnabled" -}}
{{- if and .Values.ingress.enabled (or .Values.ingress.tls.enabled .Values.ingress.clusterIssuer) -}}true{{- end -}}
{{- end -}}

{{- define "hangar.publicUrl" -}}
{{- if .Values.gateway.publicUrl -}}
{{- .Values.gateway.publicUrl -}}
{{- else if .Values.ingress.enabled -}}
{{- printf "%s://%s" (ternary "https" "http" (eq (include "hangar.tlsEnabled" .) "true")) .Values.ingress.host -}}
{{- end -}}
{{- end -}}

{{/*
Secrets holding each URL or credential: a Secret the operator made (existingSecret), or the one
the chart renders. Each returns "name key".
*/}}
{{- define "hangar.databaseSecretRef" -}}
{{- if .Values.postgresql.enabled -}}
{{- printf "%s-postgresql DATABASE_URL" (include "hangar.fullname" .) -}}
{{- else if eq .Values.externalDatabase.source "existingSecret" -}}
{{- printf "%s %s" .Values.externalDatabase.existingSecret.name .Values.externalDatabase.existingSecret.key -}}
{{- else -}}
{{- printf "%s-database DATABASE_URL" (include "hangar.fullname" .) -}}
{{- end -}}
{{- end -}}

{{- define "hangar.redisSecretRef" -}}
{{- if .Values.redis.enabled -}}
{{- printf "%s-redis REDIS_URL" (include "hangar.fullname" .) -}}
{{- else if eq .Values.externalRedis.source "existingSecret" -}}
{{- printf "%s %s" .Values.externalRedis.existingSecret.name .Values.externalRedis.existingSecret.key -}}
{{- else -}}
{{- printf "%s-redis-url REDIS_URL" (include "hangar.fullname" .) -}}
{{- end -}}
{{- end -}}

{{- define "hangar.modelSecretName" -}}
{{- if eq .Values.agentRunner.model.source "existingSecret" -}}
{{- .Values.agentRunner.model.existingSecret.name -}}
{{- else -}}
{{- printf "%s-model-keys" (include "hangar.fullname" .) -}}
{{- end -}}
{{- end -}}

{{- define "hangar.adminSecretName" -}}
{{- if eq .Values.admin.source "existingSecret" -}}
{{- .Values.admin.existingSecret.name -}}
{{- else -}}
{{- printf "%s-admin" (include "hangar.fullname" .) -}}
{{- end -}}
{{- end -}}

{{- define "hangar.gitCredentialsSecretName" -}}
{{- if eq .Values.git.credentials.source "existingSecret" -}}
{{- .Values.git.credentials.existingSecret.name -}}
{{- else -}}
{{- printf "%s-git-credentials" (include "hangar.fullname" .) -}}
{{- end -}}
{{- end -}}

{{- define "hangar.secretEnv" -}}
{{- $name := index . 0 -}}
{{- $ref := splitList " " (index . 1) -}}
- name: {{ $name }}
  valueFrom:
    secretKeyRef:
      name: {{ index $ref 0 }}
      key: {{ index $ref 1 }}
{{- end -}}

{{/*
Checks the schema cannot express; each names the value to set. Called from every template that
needs a database, so `helm template` of any file fails the same way.
*/}}
{{- define "hangar.validate" -}}
{{- if and (not .Values.postgresql.enabled) (eq .Values.externalDatabase.source "value") (not .Values.externalDatabase.url) -}}
{{- fail "hangar: no PostgreSQL: set externalDatabase.url, or externalDatabase.source=existingSecret with externalDatabase.existingSecret.name, or postgresql.enabled=true" -}}
{{- end -}}
{{- if and (not .Values.redis.enabled) (eq .Values.externalRedis.source "value") (not .Values.externalRedis.url) -}}
{{- fail "hangar: no Redis: set externalRedis.url, or externalRedis.source=existingSecret with externalRedis.existingSecret.name, or redis.enabled=true" -}}
{{- end -}}
{{- $model := .Values.agentRunner.model -}}
{{- if and (eq $model.source "value") (not (or $model.anthropicApiKey $model.openaiApiKey $model.geminiApiKey $model.credentials $model.scriptedModelUrl)) -}}
{{- fail "hangar: the agent-runner needs a model: set agentRunner.model.anthropicApiKey (or openaiApiKey, geminiApiKey, credentials), agentRunner.model.source=existingSecret with agentRunner.model.existingSecret.name, or agentRunner.model.scriptedModelUrl" -}}
{{- end -}}
{{- if and (eq .Values.admin.source "value") (not .Values.admin.token) (not .Values.admin.password) -}}
{{- fail "hangar: admin.source=value needs admin.password (with admin.email) or admin.token; use admin.source=generate or none otherwise" -}}
{{- end -}}
{{- if and (eq .Values.admin.source "value") .Values.admin.password (not .Values.admin.email) -}}
{{- fail "hangar: admin.password needs admin.email (HANGAR_ADMIN_EMAIL and HANGAR_ADMIN_PASSWORD go together)" -}}
{{- end -}}
{{- $git := .Values.git -}}
{{- if eq $git.credentials.source "value" -}}
{{- range $credential := $git.credentials.value -}}
{{- if not (has $credential.host $git.allowedHosts) -}}
{{- fail (printf "hangar: git.credentials.value names %s, which is not in git.allowedHosts (credentials are offered to allowed hosts only)" $credential.host) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Pod-level settings shared by every Hangar pod. */}}
{{- define "hangar.podSecurityContext" -}}
{{- toYaml .Values.podSecurityContext -}}
{{- end -}}

{{- define "hangar.containerSecurityContext" -}}
{{- toYaml .Values.containerSecurityContext -}}
{{- end -}}

{{/*
The sandboxing runner's pod: bubblewrap creates user, mount and PID namespaces and mounts a
procfs of its own, which the container runtime's default seccomp and AppArmor profiles refuse.
It stays a non-root user without capabilities, in a user namespace of its own (hostUsers: false,
set beside this), so what the profiles would have stopped stays inside that namespace.
*/}}
{{- define "hangar.sandboxPodSecurityContext" -}}
{{- toYaml (mergeOverwrite (deepCopy .Values.podSecurityContext) (dict "seccompProfile" (dict "type" "Unconfined") "appArmorProfile" (dict "type" "Unconfined"))) -}}
{{- end -}}

{{/* ...and its container: a /proc without the runtime's masks (needs hostUsers: false). */}}
{{- define "hangar.sandboxContainerSecurityContext" -}}
{{- toYaml (mergeOverwrite (deepCopy .Values.containerSecurityContext) (dict "procMount" "Unmasked")) -}}
{{- end -}}

{{- define "hangar.imagePullSecrets" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end -}}
{{- end -}}

{{/* A Secret's value: the given one, else the one already in the cluster, else a new random one. */}}
{{- define "hangar.keptSecretValue" -}}
{{- $root := index . 0 -}}
{{- $secretName := index . 1 -}}
{{- $key := index . 2 -}}
{{- $given := index . 3 -}}
{{- $generate := index . 4 -}}
{{- if $given -}}
{{- $given -}}
{{- else -}}
{{- $existing := lookup "v1" "Secret" $root.Release.Namespace $secretName -}}
{{- if and $existing (hasKey (default dict $existing.data) $key) -}}
{{- index $existing.data $key | b64dec -}}
{{- else -}}
{{- $generate -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The in-chart PostgreSQL's password, the same wherever it is used in one render: generated
once (the root context remembers it), as a second randAlphaNum would differ on install. */}}
{{- define "hangar.postgresqlPassword" -}}
{{- if not (hasKey . "hangarPostgresqlPassword") -}}
{{- $secretName := printf "%s-postgresql" (include "hangar.fullname" .) -}}
{{- $_ := set . "hangarPostgresqlPassword" (include "hangar.keptSecretValue" (list . $secretName "POSTGRES_PASSWORD" .Values.postgresql.password (randAlphaNum 32))) -}}
{{- end -}}
{{- index . "hangarPostgresqlPassword" -}}
{{- end -}}
