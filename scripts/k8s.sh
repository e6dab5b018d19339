#!/usr/bin/env bash
# The Kubernetes path on a local kind cluster; used by `just dev --k8s`, `just test --k8s` and
# `just clean --k8s`. Needs Docker, kind, kubectl and helm (and, with --istio, network access to
# Istio's chart repository).
#
#   scripts/k8s.sh up [--istio] [--dry-run]     kind cluster "aiq-circles", KEDA (and Istio), the image
#                                               (just image, loaded into the node), in-cluster Kafka and
#                                               PostgreSQL (dev/k8s/), the chart with values-kind.yaml;
#                                               waits for every rollout, then runs the smoke test
#   scripts/k8s.sh smoke [--dry-run]            the API smoke test against the installed release:
#                                               readiness, upload a coin photo, its job succeeds with objects
#   scripts/k8s.sh down [--force] [--dry-run]   deletes the kind cluster (asks first unless --force or CI)
#
# Environment: AIQ_K8S_CLUSTER (default aiq-circles), AIQ_K8S_NAMESPACE (aiq), AIQ_K8S_RELEASE (aiq),
# AIQ_K8S_PORT (local port of the smoke test's port-forward, 18080), AIQ_K8S_BASE_TAR (a base image
# tarball for `just image --base-tar`, for machines that reach no registry).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CLUSTER="${AIQ_K8S_CLUSTER:-aiq-circles}"
NAMESPACE="${AIQ_K8S_NAMESPACE:-aiq}"
RELEASE="${AIQ_K8S_RELEASE:-aiq}"
PORT="${AIQ_K8S_PORT:-18080}"
KEDA_VERSION="2.16.1"
ISTIO_VERSION="1.24.2"
DRY_RUN=false
ISTIO=false
FORCE=false

log() { printf '[k8s] %s\n' "$*" >&2; }
die() { printf 'k8s %s: %s\n' "${COMMAND:-}" "$*" >&2; exit 1; }

# Runs a command, or with --dry-run prints it (quoted as a shell would need it).
run() {
  if $DRY_RUN; then
    printf '%q ' "$@"
    echo
  else
    "$@"
  fi
}

need() {
  local missing=()
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  if (( ${#missing[@]} )) && ! $DRY_RUN; then
    die "missing: ${missing[*]} (Docker: https://docs.docker.com/engine/install/, kind: https://kind.sigs.k8s.io/docs/user/quick-start/#installation, kubectl, helm: https://helm.sh/docs/intro/install/)"
  fi
  if [[ " $* " == *" docker "* ]] && ! $DRY_RUN && ! docker info >/dev/null 2>&1; then
    die "no Docker engine answers (docker info failed): kind runs its cluster in Docker containers"
  fi
}

release_service() {
  echo "$RELEASE-aiq-circles"
}

up() {
  need docker kind kubectl helm
  if kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
    log "kind cluster $CLUSTER exists; reusing it"
  else
    run kind create cluster --name "$CLUSTER" --wait 120s
  fi
  run kubectl config use-context "kind-$CLUSTER"

  log "KEDA $KEDA_VERSION (scales inference on Kafka consumer lag)"
  run helm repo add kedacore https://kedacore.github.io/charts --force-update
  run helm upgrade --install keda kedacore/keda --version "$KEDA_VERSION" --namespace keda --create-namespace --wait

  local chart_args=()
  if $ISTIO; then
    log "Istio $ISTIO_VERSION (base, istiod, an ingress gateway); sidecars injected in $NAMESPACE"
    run helm repo add istio https://istio-release.storage.googleapis.com/charts --force-update
    run helm upgrade --install istio-base istio/base --version "$ISTIO_VERSION" --namespace istio-system --create-namespace --wait
    run helm upgrade --install istiod istio/istiod --version "$ISTIO_VERSION" --namespace istio-system --wait
    run helm upgrade --install istio-ingressgateway istio/gateway --version "$ISTIO_VERSION" --namespace istio-system
    chart_args+=(--set istio.enabled=true --set-string "podLabels.sidecar\.istio\.io/inject=true")
  fi

  log "the image (Jib, no Docker build), loaded into the kind node"
  local image_args=()
  [[ -n "${AIQ_K8S_BASE_TAR:-}" ]] && image_args+=(--base-tar "$AIQ_K8S_BASE_TAR")
  run "$ROOT/scripts/image.sh" --tag dev "${image_args[@]}"
  run kind load image-archive "$ROOT/app/target/jib-image.tar" --name "$CLUSTER"

  log "Kafka and PostgreSQL in namespace $NAMESPACE (development only: dev/k8s/)"
  kubectl get namespace "$NAMESPACE" >/dev/null 2>&1 || run kubectl create namespace "$NAMESPACE"
  if $ISTIO; then
    run kubectl label namespace "$NAMESPACE" istio-injection=enabled --overwrite
  fi
  run kubectl apply --namespace "$NAMESPACE" -f "$ROOT/dev/k8s/kafka.yaml" -f "$ROOT/dev/k8s/postgresql.yaml"
  run kubectl rollout status --namespace "$NAMESPACE" deployment/aiq-kafka deployment/aiq-postgresql --timeout=300s

  log "the chart, release $RELEASE"
  run helm upgrade --install "$RELEASE" "$ROOT/charts/aiq-circles" --namespace "$NAMESPACE" \
    -f "$ROOT/charts/aiq-circles/values-kind.yaml" --set inference.keda.enabled=true \
    --set "kafka.bootstrap=aiq-kafka.$NAMESPACE.svc.cluster.local:9092" "${chart_args[@]}" \
    --wait --timeout 10m
  smoke
  log "up: kubectl port-forward --namespace $NAMESPACE service/$(release_service) 8080:80, then http://localhost:8080/"
}

smoke() {
  need kubectl curl
  local base="http://127.0.0.1:$PORT" photo
  photo="$(find "$ROOT/eval/datasets/coins-dev" -name '*.jpg' | sort | head -n 1)"
  if $DRY_RUN; then
    run kubectl port-forward --namespace "$NAMESPACE" "service/$(release_service)" "$PORT:80"
    run curl -fsS "$base/health/ready"
    run curl -fsS -H 'Content-Type: image/jpeg' -H 'Prefer: wait=30' --data-binary "@$photo" "$base/images?reprocess=true"
    return 0
  fi
  kubectl port-forward --namespace "$NAMESPACE" "service/$(release_service)" "$PORT:80" >/dev/null 2>&1 &
  local forward=$!
  trap 'kill "$forward" 2>/dev/null || true' RETURN
  local ready=""
  for _ in $(seq 1 60); do
    if curl -fsS -m 5 "$base/health/ready" >/dev/null 2>&1; then
      ready=yes
      break
    fi
    sleep 2
  done
  [[ -n "$ready" ]] || die "smoke test: $base/health/ready did not answer 200 within 2 minutes (kubectl get pods -n $NAMESPACE)"
  # Prefer: wait holds the answer until the job is done; ?reprocess=true so a second run is a new job
  local answer
  answer="$(curl -sS -m 60 -H 'Content-Type: image/jpeg' -H 'Prefer: wait=30' --data-binary "@$photo" \
    "$base/images?reprocess=true")"
  if [[ "$answer" != *'"status":"succeeded"'* && "$answer" != *'"status" : "succeeded"'* ]]; then
    die "smoke test: the upload did not succeed within 30 s: $answer"
  fi
  local image_id
  image_id="$(sed -n 's/.*"imageId" *: *"\([0-9a-f]*\)".*/\1/p' <<<"$answer")"
  local objects
  objects="$(curl -fsS "$base/images/$image_id/objects")"
  [[ "$objects" == *'"object_id"'* ]] || die "smoke test: no objects for image $image_id: $objects"
  log "smoke test passed: image $image_id has $(grep -o '"object_id"' <<<"$objects" | wc -l) object(s)"
}

down() {
  need kind
  if ! $FORCE && [[ -z "${CI:-}" ]] && ! $DRY_RUN; then
    read -r -p "delete the kind cluster $CLUSTER and everything in it? [y/N] " answer
    [[ "$answer" == [yY]* ]] || { log "kept"; return 0; }
  fi
  run kind delete cluster --name "$CLUSTER"
}

COMMAND="${1:-}"
shift || true
for arg in "$@"; do
  case "$arg" in
    --dry-run) DRY_RUN=true ;;
    --istio) ISTIO=true ;;
    --force) FORCE=true ;;
    --k8s) ;;
    *) die "unknown option $arg" ;;
  esac
done
case "$COMMAND" in
  up) up ;;
  smoke) smoke ;;
  down) down ;;
  *) sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
