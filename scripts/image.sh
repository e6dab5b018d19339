#!/usr/bin/env bash
# Builds the AIQ Circles container image with Jib (no Docker daemon needed); used by `just image`.
#
#   scripts/image.sh [--base IMAGE] [--base-tar FILE] [--tag TAG] [--name NAME] [--push] [--load] [--dry-run]
#
#   default      writes app/target/jib-image.tar (an image tarball: `docker load -i`, `kind load
#                image-archive`, `ctr images import`)
#   --push       pushes NAME:TAG to its registry instead (log in first: docker login / ~/.docker/config.json)
#   --load       also `docker load`s the tarball when a Docker daemon answers
#   --base IMAGE the base image (default eclipse-temurin:17-jre; any image with `java` on its PATH)
#   --base-tar F a base image saved as a tarball (`docker save eclipse-temurin:17-jre -o base.tar` on a
#                machine that reaches the registry): for machines that reach none
#   --tag, --name  the image's tag (default dev) and name (default ghcr.io/aiq-circles/aiq-circles)
#   --dry-run    prints the Maven command instead of running it
#
# The base image comes from a registry unless --base-tar is given; where that registry cannot be
# reached the script says so before Maven starts, instead of failing minutes later inside Jib.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BASE="eclipse-temurin:17-jre"
TAG="dev"
NAME="ghcr.io/aiq-circles/aiq-circles"
GOAL="jib:buildTar"
LOAD=false
DRY_RUN=false

die() {
  echo "just image: $*" >&2
  exit 1
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --base) BASE="${2:?--base needs an image}"; shift 2 ;;
    --base-tar)
      [[ -f "${2:?--base-tar needs a file}" ]] || die "no such file: $2"
      BASE="tar://$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"
      shift 2 ;;
    --tag) TAG="${2:?--tag needs a value}"; shift 2 ;;
    --name) NAME="${2:?--name needs a value}"; shift 2 ;;
    --push) GOAL="jib:build"; shift ;;
    --load) LOAD=true; shift ;;
    --dry-run) DRY_RUN=true; shift ;;
    -h|--help) sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see: just image --help)" ;;
  esac
done

# The registry host of an image reference: the first path component when it looks like a host
# (has a dot or a port, or is localhost), else Docker Hub.
registry_of() {
  local ref="$1" first="${1%%/*}"
  if [[ "$ref" == */* && ( "$first" == *.* || "$first" == *:* || "$first" == localhost ) ]]; then
    echo "$first"
  else
    echo "registry-1.docker.io"
  fi
}

reachable() {
  # any HTTP answer (200, 401) means the registry is there; 000 means no connection
  local code
  code="$(curl -s -o /dev/null -m 8 -w '%{http_code}' "https://$1/v2/" || true)"
  [[ "$code" != "000" && -n "$code" ]]
}

if [[ "$BASE" != tar://* && "$BASE" != docker://* ]]; then
  host="$(registry_of "$BASE")"
  if ! $DRY_RUN && ! reachable "$host"; then
    die "the base image $BASE comes from $host, which this machine cannot reach.
  On a machine that can:   docker pull $BASE && docker save $BASE -o base.tar
  then here:               just image --base-tar base.tar"
  fi
fi
if [[ "$GOAL" == jib:build ]]; then
  host="$(registry_of "$NAME")"
  if ! $DRY_RUN && ! reachable "$host"; then
    die "cannot push: $host (the registry of $NAME) cannot be reached from here; build the tarball instead (just image)"
  fi
fi

# the modules the app needs go to the local repository first, so Jib runs on the app module alone
# (run across the reactor, it would try to containerize every module)
build=(mvn -B -q -DskipTests -pl app -am install)
containerize=(mvn -B -q -pl app "$GOAL" "-Dimage.base=$BASE" "-Dimage.name=$NAME" "-Dimage.tag=$TAG")
if $DRY_RUN; then
  printf '%q ' "${build[@]}"
  echo
  printf '%q ' "${containerize[@]}"
  echo
  exit 0
fi
cd "$ROOT"
"${build[@]}"
"${containerize[@]}"
if [[ "$GOAL" == jib:buildTar ]]; then
  echo "image $NAME:$TAG written to app/target/jib-image.tar (base $BASE)"
  if $LOAD; then
    if docker info >/dev/null 2>&1; then
      docker load -i app/target/jib-image.tar
    else
      echo "--load: no Docker daemon answers here; load the tarball where one does: docker load -i app/target/jib-image.tar" >&2
    fi
  fi
else
  echo "image $NAME:$TAG pushed (base $BASE)"
fi
