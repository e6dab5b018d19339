{{/*
Chart name, overridable with nameOverride.
*/}}
{{- define "aiq-circles.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name: <release>-<chart>, or the release name when it already contains the chart
name; 63 characters at most (a DNS label).
*/}}
{{- define "aiq-circles.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
A name with a suffix (a role, "cluster", "store"): the fullname is cut to 52 characters so that
"<fullname>-all-in-one" still fits a 63-character Service name.
Call with (dict "root" $ "suffix" "inference").
*/}}
{{- define "aiq-circles.suffixedName" -}}
{{- printf "%s-%s" (include "aiq-circles.fullname" .root | trunc 52 | trimSuffix "-") .suffix }}
{{- end }}

{{/*
The name of a role's objects (Deployment, role Service, HPA, PDB, ScaledObject).
Call with the role context (dict "root" $ "role" "gateway" ...).
*/}}
{{- define "aiq-circles.roleFullname" -}}
{{- include "aiq-circles.suffixedName" (dict "root" .root "suffix" .role) }}
{{- end }}

{{/*
Chart name and version, for the helm.sh/chart label.
*/}}
{{- define "aiq-circles.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Common labels of every object.
*/}}
{{- define "aiq-circles.labels" -}}
helm.sh/chart: {{ include "aiq-circles.chart" . }}
{{ include "aiq-circles.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: aiq-circles
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Selector labels shared by every pod of the release (all roles): the headless cluster Service, the
NetworkPolicy and the PeerAuthentication select on these.
*/}}
{{- define "aiq-circles.selectorLabels" -}}
app.kubernetes.io/name: {{ include "aiq-circles.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Labels of one role's objects. Call with the role context (dict "root" $ "role" ...).
*/}}
{{- define "aiq-circles.componentLabels" -}}
{{ include "aiq-circles.labels" .root }}
app.kubernetes.io/component: {{ .role }}
{{- end }}

{{/*
Selector labels of one role's pods. Call with the role context.
*/}}
{{- define "aiq-circles.componentSelectorLabels" -}}
{{ include "aiq-circles.selectorLabels" .root }}
app.kubernetes.io/component: {{ .role }}
{{- end }}

{{/*
commonAnnotations as a metadata block (nothing when empty). Call with the root context.
*/}}
{{- define "aiq-circles.annotations" -}}
{{- with .Values.commonAnnotations -}}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/*
The Deployments of this release, comma-separated (each a key of values.yaml, all-in-one's allInOne):
- split: api (gateway, ingest and queries on one local event bus), inference, results (the writer);
  they meet only in Kafka, PostgreSQL and the image store, with no cluster;
- split-clustered: one Deployment per role, joined into a Vert.x/Hazelcast cluster;
- all-in-one: the single all-in-one Deployment.
Use: splitList "," (include "aiq-circles.roles" .)
*/}}
{{- define "aiq-circles.roles" -}}
{{- if eq .Values.mode "all-in-one" }}all-in-one
{{- else if eq .Values.mode "split-clustered" }}gateway,ingest,queries,inference,results
{{- else }}api,inference,results{{ end }}
{{- end }}

{{/*
"true" when the pods join a Vert.x/Hazelcast cluster (mode split-clustered): then, and only then,
they listen on cluster.port (Hazelcast) and cluster.eventBusPort (the event bus). Call with the root.
*/}}
{{- define "aiq-circles.clustered" -}}
{{- if eq .Values.mode "split-clustered" }}true{{ end }}
{{- end }}

{{/*
The values key of a role's block: the role itself, allInOne for "all-in-one".
Use: index $.Values (include "aiq-circles.roleValuesKey" $role)
*/}}
{{- define "aiq-circles.roleValuesKey" -}}
{{- if eq . "all-in-one" }}allInOne{{ else }}{{ . }}{{ end }}
{{- end }}

{{/*
AIQ_ROLES of a Deployment's pods.
*/}}
{{- define "aiq-circles.aiqRoles" -}}
{{- if eq . "all-in-one" }}gateway,ingest,queries,inference,results,webhooks
{{- else if eq . "api" }}gateway,ingest,queries
{{- else if eq . "results" }}results,webhooks
{{- else }}{{ . }}{{ end }}
{{- end }}

{{/*
"true" when a Deployment's pods get the webhook signing key: those that send webhooks (results,
all-in-one) and those that take callbackUrls (the gateway's: api, gateway).
*/}}
{{- define "aiq-circles.getsWebhooksSecret" -}}
{{- if has . (list "api" "gateway" "results" "all-in-one") }}true{{ end }}
{{- end }}

{{/*
The Secret holding the webhook signing key: webhooks.existingSecret, or the chart's own
<fullname>-webhooks (templates/webhooks-secret.yaml).
*/}}
{{- define "aiq-circles.webhooksSecretName" -}}
{{- .Values.webhooks.existingSecret | default (include "aiq-circles.suffixedName" (dict "root" . "suffix" "webhooks")) }}
{{- end }}

{{/*
The component whose pods serve the API (behind the API Service, Ingress and Istio route).
*/}}
{{- define "aiq-circles.apiComponent" -}}
{{- if eq .Values.mode "all-in-one" }}all-in-one{{ else if eq .Values.mode "split-clustered" }}gateway{{ else }}api{{ end }}
{{- end }}

{{/*
"true" when a Deployment's pods mount the image store (those that write or read blobs: not queries or
results).
*/}}
{{- define "aiq-circles.mountsStore" -}}
{{- if has . (list "api" "gateway" "ingest" "inference" "all-in-one") }}true{{ end }}
{{- end }}

{{/*
"true" when a role's pods get the image store's volume: they read or write blobs and the store is a
filesystem (with store.type s3 no pod mounts anything). Call with the role context.
*/}}
{{- define "aiq-circles.storeVolume" -}}
{{- if and (include "aiq-circles.mountsStore" .role) (ne .root.Values.store.type "s3") }}true{{ end }}
{{- end }}

{{/*
"true" when KEDA owns a role's replica count (inference in split mode, keda.enabled).
Call with the role context.
*/}}
{{- define "aiq-circles.kedaEnabled" -}}
{{- if and (eq .role "inference") .root.Values.inference.keda.enabled }}true{{ end }}
{{- end }}

{{/*
"true" when an HPA is rendered for a role: its autoscaling is enabled and KEDA does not own it.
Call with the role context.
*/}}
{{- define "aiq-circles.hpaEnabled" -}}
{{- if and .values.autoscaling.enabled (not (include "aiq-circles.kedaEnabled" .)) }}true{{ end }}
{{- end }}

{{/*
The fewest replicas a role runs with: KEDA's floor (0 with scale to zero), the HPA's minReplicas, or
replicas. Decides whether a PodDisruptionBudget makes sense. Call with the role context.
*/}}
{{- define "aiq-circles.minReplicas" -}}
{{- if include "aiq-circles.kedaEnabled" . }}
{{- if .root.Values.inference.keda.scaleToZero }}0{{ else }}{{ .root.Values.inference.keda.minReplicaCount | int }}{{ end }}
{{- else if include "aiq-circles.hpaEnabled" . }}
{{- .values.autoscaling.minReplicas | int }}
{{- else }}
{{- .values.replicas | int }}
{{- end }}
{{- end }}

{{/*
KEDA's maxReplicaCount: inference.keda.maxReplicaCount, never more pods than the partitions can
keep busy: each pod runs config.inference.consumers consumers, and a consumer beyond the partition
count gets nothing (at least 1).
*/}}
{{- define "aiq-circles.kedaMaxReplicas" -}}
{{- $consumers := max 1 (.Values.config.inference.consumers | int) }}
{{- $busy := max 1 (div (.Values.kafka.partitions | int) $consumers) }}
{{- min (.Values.inference.keda.maxReplicaCount | int) $busy }}
{{- end }}

{{/*
Kafka topic and consumer group KEDA watches: computed from the same values as the ConfigMap's
AIQ_KAFKA_TOPIC_PREFIX / AIQ_KAFKA_GROUP_PREFIX, so the trigger follows the app.
*/}}
{{- define "aiq-circles.inferenceTopic" -}}
{{- printf "%saiq.images.submitted" .Values.kafka.topicPrefix }}
{{- end }}

{{- define "aiq-circles.inferenceConsumerGroup" -}}
{{- printf "%s-inference" .Values.kafka.groupPrefix }}
{{- end }}

{{/*
The image reference: repository@digest, or repository:tag (tag defaults to the appVersion).
*/}}
{{- define "aiq-circles.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion | toString) }}
{{- end }}
{{- end }}

{{/*
The ServiceAccount the pods run as.
*/}}
{{- define "aiq-circles.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "aiq-circles.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The headless Service of the Hazelcast cluster, and the DNS name the members look up.
*/}}
{{- define "aiq-circles.clusterServiceName" -}}
{{- include "aiq-circles.suffixedName" (dict "root" . "suffix" "cluster") }}
{{- end }}

{{- define "aiq-circles.clusterServiceDns" -}}
{{- printf "%s.%s.svc.%s" (include "aiq-circles.clusterServiceName" .) .Release.Namespace .Values.clusterDomain }}
{{- end }}

{{/*
The claim of the image store: existingClaim or the chart's own.
*/}}
{{- define "aiq-circles.storeClaimName" -}}
{{- if .Values.store.persistence.existingClaim }}
{{- .Values.store.persistence.existingClaim }}
{{- else }}
{{- include "aiq-circles.suffixedName" (dict "root" . "suffix" "store") }}
{{- end }}
{{- end }}

{{/*
"true" when the chart renders its own Secret: a database password or API keys given as values
without an existing Secret.
*/}}
{{- define "aiq-circles.createSecret" -}}
{{- if or (and (not .Values.database.existingSecret) .Values.database.password) (and (not .Values.apiKeys.existingSecret) .Values.apiKeys.keys) }}true{{ end }}
{{- end }}

{{/*
"true" when AIQ_DATABASE_URL / AIQ_DATABASE_USER come from the existing Secret (and so are left
out of the ConfigMap).
*/}}
{{- define "aiq-circles.databaseUrlFromSecret" -}}
{{- if and .Values.database.existingSecret .Values.database.secretKeys.url }}true{{ end }}
{{- end }}

{{- define "aiq-circles.databaseUserFromSecret" -}}
{{- if and .Values.database.existingSecret .Values.database.secretKeys.user }}true{{ end }}
{{- end }}

{{/*
A value as an environment string: whole numbers without exponent (Helm reads numbers from values as
float64, and 20971520 would print as 2.097152e+07), booleans as true/false, nothing for null.
Use: include "aiq-circles.envString" $value | quote
*/}}
{{- define "aiq-circles.envString" -}}
{{- if kindIs "invalid" . }}
{{- else if kindIs "float64" . }}
{{- if eq . (float64 (int64 .)) }}{{ int64 . }}{{ else }}{{ . }}{{ end }}
{{- else }}
{{- toString . }}
{{- end }}
{{- end }}

{{/*
An IntOrString field (PDB minAvailable/maxUnavailable): whole numbers bare, percentages quoted.
*/}}
{{- define "aiq-circles.intOrString" -}}
{{- $s := include "aiq-circles.envString" . }}
{{- if regexMatch "^[0-9]+$" $s }}{{ $s }}{{ else }}{{ $s | quote }}{{ end }}
{{- end }}

{{/*
The config map of settings as AIQ_<SECTION>_<KEY>: "<ENV>: "<value>"" lines, recursing into
sections. Call with (dict "prefix" "AIQ" "values" .Values.config).
*/}}
{{- define "aiq-circles.configEnv" -}}
{{- $prefix := .prefix }}
{{- range $key, $value := .values }}
{{- $name := printf "%s_%s" $prefix ($key | upper | replace "-" "_") }}
{{- if kindIs "map" $value }}
{{- include "aiq-circles.configEnv" (dict "prefix" $name "values" $value) }}
{{- else }}
{{ $name }}: {{ include "aiq-circles.envString" $value | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/*
JAVA_TOOL_OPTIONS of a role: the fixed cache directories under the writable /tmp, jvm.options and
the role's jvmOptions. Call with the role context.
*/}}
{{- define "aiq-circles.javaToolOptions" -}}
{{- $opts := list "-Dvertx.cacheDirBase=/tmp/vertx-cache" "-Dorg.bytedeco.javacpp.cachedir=/tmp/javacpp" }}
{{- with .root.Values.jvm.options }}{{ $opts = append $opts . }}{{ end }}
{{- with .values.jvmOptions }}{{ $opts = append $opts . }}{{ end }}
{{- join " " $opts }}
{{- end }}

{{/*
The env list of a role's container (the settings shared by all pods come from the ConfigMap with
envFrom; these are per pod or secret). Call with the role context.
*/}}
{{- define "aiq-circles.env" -}}
{{- $root := .root }}
{{- $db := $root.Values.database }}
{{- $keys := $root.Values.apiKeys -}}
- name: AIQ_ROLES
  value: {{ include "aiq-circles.aiqRoles" .role | quote }}
{{- if include "aiq-circles.clustered" $root }}
- name: AIQ_CLUSTER_HOST
  valueFrom:
    fieldRef:
      fieldPath: status.podIP
{{- end }}
- name: JAVA_TOOL_OPTIONS
  value: {{ include "aiq-circles.javaToolOptions" . | quote }}
- name: TF_ENABLE_ONEDNN_OPTS
  value: "1"
{{- if $db.existingSecret }}
{{- if $db.secretKeys.url }}
- name: AIQ_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ $db.existingSecret | quote }}
      key: {{ $db.secretKeys.url | quote }}
{{- end }}
{{- if $db.secretKeys.user }}
- name: AIQ_DATABASE_USER
  valueFrom:
    secretKeyRef:
      name: {{ $db.existingSecret | quote }}
      key: {{ $db.secretKeys.user | quote }}
{{- end }}
{{- if $db.secretKeys.password }}
- name: AIQ_DATABASE_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $db.existingSecret | quote }}
      key: {{ $db.secretKeys.password | quote }}
{{- end }}
{{- else if $db.password }}
- name: AIQ_DATABASE_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "aiq-circles.fullname" $root }}
      key: database-password
{{- end }}
{{- $s3 := $root.Values.store.s3 }}
{{- if and (eq $root.Values.store.type "s3") $s3.existingSecret (include "aiq-circles.mountsStore" .role) }}
- name: AIQ_STORE_S3_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef:
      name: {{ $s3.existingSecret | quote }}
      key: access-key-id
- name: AIQ_STORE_S3_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $s3.existingSecret | quote }}
      key: secret-access-key
{{- end }}
{{- if $keys.existingSecret }}
- name: AIQ_API_KEYS
  valueFrom:
    secretKeyRef:
      name: {{ $keys.existingSecret | quote }}
      key: {{ $keys.existingSecretKey | quote }}
{{- else if $keys.keys }}
- name: AIQ_API_KEYS
  valueFrom:
    secretKeyRef:
      name: {{ include "aiq-circles.fullname" $root }}
      key: api-keys
{{- end }}
{{- if include "aiq-circles.getsWebhooksSecret" .role }}
- name: AIQ_WEBHOOKS_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ include "aiq-circles.webhooksSecretName" $root | quote }}
      key: {{ ternary $root.Values.webhooks.existingSecretKey "webhooks-secret" (ne $root.Values.webhooks.existingSecret "") | quote }}
{{- end }}
{{- with $root.Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- with .values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
An HTTP probe on the http port; the probe's values without "enabled".
Call with (dict "path" "/health/live" "probe" .root.Values.probes.liveness).
*/}}
{{- define "aiq-circles.httpProbe" -}}
httpGet:
  path: {{ .path }}
  port: http
{{- with (omit .probe "enabled") }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
The pod template of a role's Deployment: one body for every role, so the roles differ only in
AIQ_ROLES, sizing, placement and whether the image store is mounted.
Call with the role context (dict "root" $ "role" $role "values" $values).
*/}}
{{- define "aiq-circles.podTemplate" -}}
{{- $root := .root }}
{{- $values := .values }}
{{- $probes := $root.Values.probes -}}
metadata:
  labels:
    {{- /* one map: the chart's labels win, then the role's podLabels, then the global ones */}}
    {{- toYaml (merge (fromYaml (include "aiq-circles.componentLabels" .)) (default (dict) $values.podLabels) (default (dict) $root.Values.podLabels)) | nindent 4 }}
  annotations:
    checksum/config: {{ include (print $root.Template.BasePath "/configmap.yaml") $root | sha256sum }}
    checksum/secret: {{ include (print $root.Template.BasePath "/secret.yaml") $root | sha256sum }}
    {{- if $root.Values.metrics.scrapeAnnotations }}
    prometheus.io/scrape: "true"
    prometheus.io/port: {{ include "aiq-circles.envString" $root.Values.config.http.port | quote }}
    prometheus.io/path: /metrics
    {{- end }}
    {{- with $root.Values.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
    {{- with $values.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "aiq-circles.serviceAccountName" $root }}
  automountServiceAccountToken: {{ $root.Values.serviceAccount.automountServiceAccountToken }}
  {{- with $root.Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with ($values.priorityClassName | default $root.Values.priorityClassName) }}
  priorityClassName: {{ . | quote }}
  {{- end }}
  terminationGracePeriodSeconds: {{ $root.Values.terminationGracePeriodSeconds | int }}
  securityContext:
    {{- toYaml $root.Values.podSecurityContext | nindent 4 }}
  {{- with $values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $values.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $values.topologySpreadConstraints }}
  topologySpreadConstraints:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  containers:
    - name: aiq-circles
      image: {{ include "aiq-circles.image" $root | quote }}
      imagePullPolicy: {{ $root.Values.image.pullPolicy }}
      securityContext:
        {{- toYaml $root.Values.containerSecurityContext | nindent 8 }}
      ports:
        - name: http
          containerPort: {{ $root.Values.config.http.port | int }}
          protocol: TCP
        {{- if include "aiq-circles.clustered" $root }}
        - name: hazelcast
          containerPort: {{ $root.Values.cluster.port | int }}
          protocol: TCP
        - name: eventbus
          containerPort: {{ $root.Values.cluster.eventBusPort | int }}
          protocol: TCP
        {{- end }}
      envFrom:
        - configMapRef:
            name: {{ include "aiq-circles.fullname" $root }}
        {{- with $root.Values.extraEnvFrom }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      env:
        {{- include "aiq-circles.env" . | nindent 8 }}
      {{- if $probes.startup.enabled }}
      startupProbe:
        {{- include "aiq-circles.httpProbe" (dict "path" "/health/live" "probe" $probes.startup) | nindent 8 }}
      {{- end }}
      {{- if $probes.liveness.enabled }}
      livenessProbe:
        {{- include "aiq-circles.httpProbe" (dict "path" "/health/live" "probe" $probes.liveness) | nindent 8 }}
      {{- end }}
      {{- if $probes.readiness.enabled }}
      readinessProbe:
        {{- include "aiq-circles.httpProbe" (dict "path" "/health/ready" "probe" $probes.readiness) | nindent 8 }}
      {{- end }}
      {{- with $root.Values.lifecycle }}
      lifecycle:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      resources:
        {{- toYaml $values.resources | nindent 8 }}
      volumeMounts:
        - name: tmp
          mountPath: /tmp
        {{- if include "aiq-circles.storeVolume" . }}
        - name: store
          mountPath: {{ $root.Values.store.root | quote }}
        {{- end }}
        {{- with $root.Values.extraVolumeMounts }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
  volumes:
    - name: tmp
      {{- if or $root.Values.tmpDir.sizeLimit $root.Values.tmpDir.medium }}
      emptyDir:
        {{- with $root.Values.tmpDir.medium }}
        medium: {{ . | quote }}
        {{- end }}
        {{- with $root.Values.tmpDir.sizeLimit }}
        sizeLimit: {{ . | quote }}
        {{- end }}
      {{- else }}
      emptyDir: {}
      {{- end }}
    {{- if include "aiq-circles.storeVolume" . }}
    - name: store
      {{- if $root.Values.store.persistence.enabled }}
      persistentVolumeClaim:
        claimName: {{ include "aiq-circles.storeClaimName" $root }}
      {{- else }}
      emptyDir: {}
      {{- end }}
    {{- end }}
    {{- with $root.Values.extraVolumes }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end }}

{{/*
Checks across values that the schema cannot express; fails the render with a message.
*/}}
{{- define "aiq-circles.validate" -}}
{{- $shutdownMs := index .Values.config "shutdown-timeout-ms" | int64 }}
{{- if le (mul (.Values.terminationGracePeriodSeconds | int64) 1000) $shutdownMs }}
{{- fail (printf "terminationGracePeriodSeconds (%d s) must exceed config.shutdown-timeout-ms (%d ms), or the kubelet kills pods mid-drain" (.Values.terminationGracePeriodSeconds | int64) $shutdownMs) }}
{{- end }}
{{- if and (eq .Values.store.type "s3") (not .Values.store.s3.bucket) }}
{{- fail "store.type s3 needs store.s3.bucket" }}
{{- end }}
{{- if and (ne .Values.mode "all-in-one") (not .Values.store.persistence.enabled) (ne .Values.store.type "s3") }}
{{- fail (printf "mode %s needs a shared image store (the API pods write it, inference reads it): set store.persistence.enabled=true (with an RWX storageClass or an existingClaim)" .Values.mode) }}
{{- end }}
{{- if and (eq .Values.mode "all-in-one") (not .Values.store.persistence.enabled) (ne .Values.store.type "s3") (gt (.Values.allInOne.replicas | int) 1) }}
{{- fail "allInOne.replicas > 1 needs a shared image store: set store.persistence.enabled=true" }}
{{- end }}
{{- if and .Values.database.existingSecret .Values.database.password }}
{{- fail "database.password and database.existingSecret are both set: keep the password in the existing Secret only" }}
{{- end }}
{{- if and .Values.apiKeys.existingSecret .Values.apiKeys.keys }}
{{- fail "apiKeys.keys and apiKeys.existingSecret are both set: keep the keys in the existing Secret only" }}
{{- end }}
{{- end }}
