#!/usr/bin/env bash
# Developer tool check and installation (`just check-deps`, `just install-deps`).
#
#   scripts/deps.sh check     report java (17+), mvn, just, PostgreSQL, curl (required) and
#                             node/npm, jq or python3, shellcheck (optional); exit 1 when a
#                             required one is missing
#   scripts/deps.sh install   install what is missing on Debian/Ubuntu (apt-get; `just` through
#                             `npm install -g rust-just`), then pre-fetch the Maven dependencies
#                             (mvn -B -q -DskipTests install) and the dev Kafka broker classpath
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# Java feature release (8, 11, 17, 21 ...) of `java` on PATH, or 0.
java_major() {
  local v
  command -v java >/dev/null 2>&1 || { echo 0; return 0; }
  v="$(java -XshowSettings:properties -version 2>&1 \
    | sed -n 's/^ *java\.specification\.version = //p' | head -n 1)"
  v="${v#1.}"
  [[ "$v" =~ ^[0-9]+$ ]] && echo "$v" || echo 0
}

# Puts npm's global bin folder on PATH (where `npm install -g rust-just` puts `just`).
npm_bin_on_path() {
  command -v npm >/dev/null 2>&1 || return 0
  local bin
  bin="$(npm prefix -g 2>/dev/null)/bin"
  case ":$PATH:" in
    *":$bin:"*) ;;
    *) export PATH="$bin:$PATH" ;;
  esac
}

cmd_check() {
  local missing=0 v
  ok() { printf '  ok       %-11s %s\n' "$1" "$2"; }
  bad() { printf '  MISSING  %-11s %s\n' "$1" "$2"; missing=1; }
  opt() { printf '  -        %-11s %s\n' "$1" "$2"; }
  npm_bin_on_path
  echo "required:"
  v="$(java_major)"
  if (( v >= 17 )); then
    ok java "$(java -version 2>&1 | head -n 1)"
  elif (( v > 0 )); then
    bad java "found Java $v, need 17+ (apt-get install -y openjdk-17-jdk-headless)"
  else
    bad java "need JDK 17+ (apt-get install -y openjdk-17-jdk-headless)"
  fi
  if command -v mvn >/dev/null 2>&1; then
    ok mvn "$(mvn -v 2>/dev/null | head -n 1 | sed 's/\x1b\[[0-9;]*m//g')"
  else
    bad mvn "apt-get install -y maven"
  fi
  if command -v just >/dev/null 2>&1; then
    ok just "$(just --version)"
  else
    bad just "npm install -g rust-just"
  fi
  if command -v curl >/dev/null 2>&1; then
    ok curl "$(curl --version | head -n 1 | cut -d' ' -f1-2)"
  else
    bad curl "apt-get install -y curl"
  fi
  if v="$("$ROOT/scripts/postgres.sh" check 2>/dev/null)"; then
    ok postgresql "$v"
  else
    bad postgresql "$v"
  fi
  echo "optional:"
  if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
    ok node/npm "node $(node --version), npm $(npm --version) (installs just)"
  else
    opt node/npm "not found; only needed to install just (apt-get install -y nodejs npm)"
  fi
  if command -v jq >/dev/null 2>&1; then
    ok jq "$(jq --version) (pretty JSON in just health)"
  elif command -v python3 >/dev/null 2>&1; then
    ok python3 "$(python3 --version 2>&1) (pretty JSON in just health)"
  else
    opt jq "not found; just health prints raw JSON (apt-get install -y jq)"
  fi
  if command -v shellcheck >/dev/null 2>&1; then
    ok shellcheck "$(shellcheck --version | sed -n 's/^version: //p') (just lint)"
  else
    opt shellcheck "not found; needed by just lint (apt-get install -y shellcheck)"
  fi
  if (( missing )); then
    echo "something required is missing: run \`just install-deps\` (Debian/Ubuntu) or install it by hand"
    return 1
  fi
  echo "all required tools are present"
}

cmd_install() {
  local sudo=""
  if [[ "$(id -u)" != 0 ]]; then
    command -v sudo >/dev/null 2>&1 || { echo "not root and no sudo: install the packages by hand" >&2; exit 1; }
    sudo=sudo
  fi
  npm_bin_on_path
  local -a pkgs=()
  (( $(java_major) >= 17 )) || pkgs+=(openjdk-17-jdk-headless)
  command -v mvn >/dev/null 2>&1 || pkgs+=(maven)
  command -v curl >/dev/null 2>&1 || pkgs+=(curl)
  command -v shellcheck >/dev/null 2>&1 || pkgs+=(shellcheck)
  "$ROOT/scripts/postgres.sh" check >/dev/null 2>&1 || pkgs+=(postgresql)
  if ! command -v just >/dev/null 2>&1 && ! command -v npm >/dev/null 2>&1; then
    pkgs+=(nodejs npm)
  fi
  if (( ${#pkgs[@]} )); then
    command -v apt-get >/dev/null 2>&1 \
      || { echo "apt-get not found; install by hand: ${pkgs[*]}" >&2; exit 1; }
    echo "installing with apt-get: ${pkgs[*]}"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}"
  else
    echo "system packages: nothing to install"
  fi
  if ! command -v just >/dev/null 2>&1; then
    echo "installing just: npm install -g rust-just"
    $sudo npm install -g rust-just
    npm_bin_on_path
    command -v just >/dev/null 2>&1 || { echo "just installed but not on PATH; add \$(npm prefix -g)/bin to PATH" >&2; exit 1; }
  fi
  echo "pre-fetching Maven dependencies (mvn -B -q -DskipTests install) ..."
  (cd "$ROOT" && mvn -B -q -DskipTests install)
  echo "pre-fetching the dev Kafka broker classpath ..."
  "$ROOT/scripts/kafka.sh" classpath
  cmd_check
}

case "${1:-}" in
  check) cmd_check ;;
  install) cmd_install ;;
  *)
    echo "usage: $0 {check|install}" >&2
    exit 2
    ;;
esac
