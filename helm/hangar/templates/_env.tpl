{{/*
The non-secret environment of one component (docs/configuration.md), as a dict: the settings
every service reads, the component's own, then its `env` values (which win).
*/}}
{{- define "hangar.componentEnv" -}}
{{- $root := index . 0 -}}
{{- $name := index . 1 -}}
{{- $meta := index (include "hangar.components" $root | fromYaml) $name -}}
{{- $values := index $root.Values $meta.key -}}
{{- $env := dict -}}
{{- $_ := set $env $meta.portEnv (toString $meta.port) -}}
{{- if $meta.health -}}
{{- $_ := set $env "HOST" "0.0.0.0" -}}
{{- $_ := set $env "LOG_LEVEL" $root.Values.logLevel -}}
{{- $_ := set $env "HANGAR_REDIS_PREFIX" $root.Values.redisPrefix -}}
{{- with $root.Values.otel.endpoint -}}
{{- $_ := set $env "OTEL_EXPORTER_OTLP_ENDPOINT" . -}}
{{- end -}}
{{- end -}}
{{- if or (eq $name "gateway") (eq $name "agent-runner") -}}
{{- $_ := set $env "GIT_ALLOWED_HOSTS" (join "," $root.Values.git.allowedHosts) -}}
{{- end -}}
{{- if eq $name "gateway" -}}
{{- $trust := toString $values.trustProxy -}}
{{- if eq $trust "" -}}
{{- $trust = ternary "1" "0" $root.Values.ingress.enabled -}}
{{- end -}}
{{- $_ := set $env "TRUST_PROXY" $trust -}}
{{- with include "hangar.publicUrl" $root -}}
{{- $_ := set $env "HANGAR_PUBLIC_URL" . -}}
{{- end -}}
{{- with $root.Values.agentRunner.model.scriptedModelUrl -}}
{{- $_ := set $env "SCRIPTED_MODEL_URL" . -}}
{{- end -}}
{{- end -}}
{{- if eq $name "orchestrator" -}}
{{- $_ := set $env "MAX_ACTIVE_TASKS_PER_PROJECT" (toString $values.maxActiveTasksPerProject) -}}
{{- $_ := set $env "ROUTING_STRATEGY" $values.routingStrategy -}}
{{- end -}}
{{- if eq $name "agent-runner" -}}
{{- $model := $values.model -}}
{{- $_ := set $env "RUNNER_SLOTS" (toString $values.slots) -}}
{{- $_ := set $env "RUNNER_WARM_MAX" (toString $values.warm.max) -}}
{{- $_ := set $env "RUNNER_WARM_DEFAULT" (toString $values.warm.perProfile) -}}
{{- $_ := set $env "RUNNER_SPARE_SANDBOXES" (toString $values.spareSandboxes) -}}
{{- $_ := set $env "RUNNER_POOL" $values.pool -}}
{{- $_ := set $env "RUNNER_LABELS" (join "," $values.labels) -}}
{{- $_ := set $env "WORKSPACE_ROOT" "/var/lib/hangar/workspaces" -}}
{{- $_ := set $env "RUNNER_HOME_ROOT" "/var/lib/hangar/agent-homes" -}}
{{- /* The agents' own OpenTelemetry is relayed to the metrics service (docs/observability.md). */ -}}
{{- $_ := set $env "RUNNER_METRICS_URL" (printf "http://%s-metrics:4009" (include "hangar.fullname" $root)) -}}
{{- range $var, $value := dict "ANTHROPIC_BASE_URL" $model.anthropicBaseUrl "OPENAI_BASE_URL" $model.openaiBaseUrl "GEMINI_BASE_URL" $model.geminiBaseUrl "SCRIPTED_MODEL_URL" $model.scriptedModelUrl -}}
{{- if $value -}}
{{- $_ := set $env $var $value -}}
{{- end -}}
{{- end -}}
{{- $_ := set $env "RUNNER_EXECUTOR" $values.executor -}}
{{- if eq $values.executor "process" -}}
{{- $_ := set $env "RUNNER_SANDBOX" $values.sandbox -}}
{{- end -}}
{{- if eq $values.executor "kubernetes" -}}
{{- /* Task pods reach the controller's endpoints through its Service; agents here need none. */ -}}
{{- $_ := set $env "RUNNER_TASK_API_HOST" "0.0.0.0" -}}
{{- $_ := set $env "RUNNER_TASK_API_PORT" (include "hangar.taskApiPort" $root) -}}
{{- $_ := set $env "RUNNER_TASK_API_URL" (include "hangar.taskApiUrl" $root) -}}
{{- $jobs := $values.jobs -}}
{{- $_ := set $env "RUNNER_JOB_NAMESPACE" (include "hangar.jobsNamespace" $root) -}}
{{- $_ := set $env "RUNNER_JOB_IMAGE" (default (include "hangar.image" (list $root "agent-runner")) $jobs.image) -}}
{{- $_ := set $env "RUNNER_MAX_JOBS" (toString $jobs.maxJobs) -}}
{{- $_ := set $env "RUNNER_JOB_WARM_MAX" (toString $jobs.warmMax) -}}
{{- with $jobs.runtimeClassName -}}
{{- $_ := set $env "RUNNER_JOB_RUNTIME_CLASS" . -}}
{{- end -}}
{{- $_ := set $env "RUNNER_JOB_TTL_SECONDS" (toString $jobs.ttlSecondsAfterFinished) -}}
{{- $_ := set $env "RUNNER_JOB_NODE_SELECTOR" (toJson (default dict $jobs.nodeSelector)) -}}
{{- $_ := set $env "RUNNER_JOB_TOLERATIONS" (toJson (default list $jobs.tolerations)) -}}
{{- $_ := set $env "RUNNER_JOB_RESOURCES" (toJson (default dict $jobs.resources)) -}}
{{- $_ := set $env "RUNNER_JOB_PENDING_TIMEOUT_SECONDS" (toString $jobs.pendingTimeoutSeconds) -}}
{{- if $jobs.conversationClaims.enabled -}}
{{- $_ := set $env "RUNNER_JOB_CONVERSATION_CLAIMS" "true" -}}
{{- $_ := set $env "RUNNER_JOB_CONVERSATION_STORAGE_SIZE" $jobs.conversationClaims.size -}}
{{- with $jobs.conversationClaims.storageClassName -}}
{{- $_ := set $env "RUNNER_JOB_CONVERSATION_STORAGE_CLASS" . -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if eq $name "dashboard" -}}
{{- $_ := set $env "NEXT_TELEMETRY_DISABLED" "1" -}}
{{- /* The dashboard's server asks the gateway who is signed in (and proxies /api/ when reached
       without the ingress). Browsers reach /api/ and /socket.io/ through the ingress. */ -}}
{{- $gateway := index (include "hangar.components" $root | fromYaml) "gateway" -}}
{{- $_ := set $env "HANGAR_API_URL" (printf "http://%s-gateway:%v" (include "hangar.fullname" $root) $gateway.port) -}}
{{- end -}}
{{- range $var, $value := $values.env -}}
{{- $_ := set $env $var (toString $value) -}}
{{- end -}}
{{- toYaml $env -}}
{{- end -}}

{{/* Secret environment of one component: secretKeyRefs only, never values. */}}
{{- define "hangar.componentSecretEnv" -}}
{{- $root := index . 0 -}}
{{- $name := index . 1 -}}
{{- if ne $name "dashboard" }}
{{ include "hangar.secretEnv" (list "DATABASE_URL" (include "hangar.databaseSecretRef" $root)) }}
{{ include "hangar.secretEnv" (list "REDIS_URL" (include "hangar.redisSecretRef" $root)) }}
{{- end }}
{{- if and (eq $name "gateway") (ne $root.Values.admin.source "none") }}
{{- $admin := $root.Values.admin }}
{{- $secret := include "hangar.adminSecretName" $root }}
{{- $keys := dict "HANGAR_ADMIN_EMAIL" "HANGAR_ADMIN_EMAIL" "HANGAR_ADMIN_PASSWORD" "HANGAR_ADMIN_PASSWORD" "HANGAR_ADMIN_TOKEN" "HANGAR_ADMIN_TOKEN" }}
{{- if eq $admin.source "existingSecret" }}
{{- $keys = dict "HANGAR_ADMIN_EMAIL" $admin.existingSecret.emailKey "HANGAR_ADMIN_PASSWORD" $admin.existingSecret.passwordKey "HANGAR_ADMIN_TOKEN" $admin.existingSecret.tokenKey }}
{{- end }}
{{- range $var := list "HANGAR_ADMIN_EMAIL" "HANGAR_ADMIN_PASSWORD" "HANGAR_ADMIN_TOKEN" }}
{{- $present := or (ne $admin.source "value") (and (eq $var "HANGAR_ADMIN_EMAIL") $admin.password) (and (eq $var "HANGAR_ADMIN_PASSWORD") $admin.password) (and (eq $var "HANGAR_ADMIN_TOKEN") $admin.token) }}
{{- if $present }}
- name: {{ $var }}
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ index $keys $var }}
      {{- if eq $admin.source "existingSecret" }}
      # Both halves of a pair are checked by the gateway at start.
      optional: true
      {{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- if eq $name "agent-runner" }}
{{- $credentials := $root.Values.git.credentials }}
{{- if or (eq $credentials.source "existingSecret") $credentials.value }}
- name: GIT_CREDENTIALS
  valueFrom:
    secretKeyRef:
      name: {{ include "hangar.gitCredentialsSecretName" $root }}
      key: {{ ternary $credentials.existingSecret.key "GIT_CREDENTIALS" (eq $credentials.source "existingSecret") }}
{{- end }}
{{- $model := $root.Values.agentRunner.model }}
{{- range $var, $field := dict "ANTHROPIC_API_KEY" "anthropicApiKey" "OPENAI_API_KEY" "openaiApiKey" "GEMINI_API_KEY" "geminiApiKey" "MODEL_CREDENTIALS" "credentials" }}
{{- if or (eq $model.source "existingSecret") (index $model $field) }}
- name: {{ $var }}
  valueFrom:
    secretKeyRef:
      name: {{ include "hangar.modelSecretName" $root }}
      key: {{ $var }}
      {{- if eq $model.source "existingSecret" }}
      optional: true
      {{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end -}}
