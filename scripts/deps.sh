#!/usr/bin/env bash
# Developer tools: check and install them (`just check-deps`, `just install-deps`, and `./aiq`,
# which sources this file and calls deps_ensure before it runs just).
#
#   scripts/deps.sh check     report java (17+), mvn, just, PostgreSQL, curl (required) and
#                             node/npm, jq or python3, shellcheck, Chromium (optional); exit 1 when
#                             a required one is missing
#   scripts/deps.sh ensure [just|run|test|bench|all]
#                             install what that use needs and is missing (below); silent when
#                             nothing is
#   scripts/deps.sh install   ensure all, then pre-fetch the Maven dependencies
#                             (mvn -B -q -DskipTests install) and the dev Kafka broker classpath
#
# What each use needs; each is installed only when missing:
#   just   just, through `npm install -g rust-just` (nodejs and npm through apt-get first when npm
#          is missing)
#   run    just, a JDK 17+ (openjdk-17-jdk-headless; openjdk-21-jdk-headless where apt has no 17),
#          Maven, curl, and PostgreSQL when no server answers and no server binaries are installed
#          (scripts/postgres.sh then starts a throwaway cluster from the binaries)
#   test   run, plus Chromium and chromium-driver for the viewer's browser test (where apt has no
#          such package, e.g. Ubuntu, that test skips itself, saying so)
#   bench  run, plus wrk (just bench's load generator)
#   all    test and bench, plus shellcheck (just lint)
# System packages come from apt-get (Debian/Ubuntu), as root or through sudo, non-interactively and
# with stdin closed, so it runs in CI too. Without root and sudo, just goes to ~/.local (npm
# --prefix) and the rest is named for installing by hand.
# Environment: AIQ_INSTALL=no  install nothing: say what is missing and return.
set -euo pipefail

DEPS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# prefix of the messages: ./aiq sets "aiq"
DEPS_TAG="${DEPS_TAG:-deps}"
# what the last deps_ensure installed (package names, and "just")
DEPS_INSTALLED=()

deps_log() { printf '[%s] %s\n' "$DEPS_TAG" "$*" >&2; }

# Java feature release (8, 11, 17, 21 ...) of `java` on PATH, or 0.
java_major() {
  local v
  command -v java >/dev/null 2>&1 || { echo 0; return 0; }
  v="$(java -XshowSettings:properties -version 2>&1 \
    | sed -n 's/^ *java\.specification\.version = //p' | head -n 1)"
  v="${v#1.}"
  [[ "$v" =~ ^[0-9]+$ ]] && echo "$v" || echo 0
}

# A JDK 17+ on PATH: java 17+ and its compiler (a JRE alone cannot build).
jdk_ok() {
  (( $(java_major) >= 17 )) && command -v javac >/dev/null 2>&1
}

# Puts the folders where `npm install -g rust-just` puts `just` on PATH: npm's global bin folder,
# and ~/.local/bin when just was installed there (no root, no sudo).
npm_bin_on_path() {
  local bin
  if [[ -x "$HOME/.local/bin/just" ]]; then
    case ":$PATH:" in
      *":$HOME/.local/bin:"*) ;;
      *) export PATH="$HOME/.local/bin:$PATH" ;;
    esac
  fi
  command -v npm >/dev/null 2>&1 || return 0
  bin="$(npm prefix -g 2>/dev/null)/bin"
  case ":$PATH:" in
    *":$bin:"*) ;;
    *) export PATH="$bin:$PATH" ;;
  esac
}

# Where apt has no JDK on PATH after installing one (an older java first on PATH), use the new one.
jdk_from_apt_on_path() {
  local javac
  jdk_ok && return 0
  for javac in /usr/lib/jvm/java-17-openjdk-*/bin/javac /usr/lib/jvm/java-21-openjdk-*/bin/javac; do
    [[ -x "$javac" ]] || continue
    export JAVA_HOME="${javac%/bin/javac}"
    export PATH="$JAVA_HOME/bin:$PATH"
    deps_log "using the JDK in $JAVA_HOME (JAVA_HOME and PATH set for this run)"
    return 0
  done
}

# The first of the packages apt can install (after apt-get update), or nothing.
apt_candidate() {
  local pkg c
  for pkg in "$@"; do
    c="$(apt-cache policy "$pkg" 2>/dev/null | sed -n 's/^ *Candidate: //p' | head -n 1)"
    if [[ -n "$c" && "$c" != "(none)" ]]; then
      echo "$pkg"
      return 0
    fi
  done
}

# What a use (just, run, test, all) needs and lacks, one name a line.
deps_missing() {
  local use="$1"
  npm_bin_on_path
  if [[ "$use" != just ]]; then
    jdk_ok || echo jdk
    command -v mvn >/dev/null 2>&1 || echo maven
    command -v curl >/dev/null 2>&1 || echo curl
    "$DEPS_ROOT/scripts/postgres.sh" check >/dev/null 2>&1 || echo postgresql
  fi
  if [[ "$use" == test || "$use" == all ]]; then
    # the paths ViewerBrowserTest drives
    [[ -x /usr/bin/chromium ]] || echo chromium
    [[ -x /usr/bin/chromedriver ]] || echo chromium-driver
  fi
  if [[ "$use" == all ]]; then
    command -v shellcheck >/dev/null 2>&1 || echo shellcheck
  fi
  if [[ "$use" == bench || "$use" == all ]]; then
    # the load generator of just bench's accept, read and drain phases
    command -v wrk >/dev/null 2>&1 || echo wrk
  fi
  command -v just >/dev/null 2>&1 || echo just
}

# Installs what a use needs and lacks (see the top of this file), saying what; silent when nothing
# is missing (in CI it still logs the versions). Returns 1 when something required could not be
# installed. Leaves PATH (and JAVA_HOME, where needed) set for the tools it found or installed.
deps_ensure() {
  local use="${1:-run}" tool pkg sudo="" need_just=0
  local -a missing=() apt_tools=() pkgs=() pkg_words=() absent=()
  DEPS_INSTALLED=()
  case "$use" in
    just | run | test | bench | all) ;;
    *) deps_log "deps_ensure: unknown use '$use' (just, run, test, bench, all)"; return 2 ;;
  esac
  npm_bin_on_path
  mapfile -t missing < <(deps_missing "$use")
  if (( ${#missing[@]} == 0 )); then
    if [[ -n "${CI:-}" ]]; then
      deps_log "$(deps_versions "$use")"
    fi
    return 0
  fi
  deps_log "missing: ${missing[*]}"
  if [[ "${AIQ_INSTALL:-yes}" == no ]]; then
    deps_log "AIQ_INSTALL=no: installing nothing"
    return 0
  fi
  for tool in "${missing[@]}"; do
    if [[ "$tool" == just ]]; then
      need_just=1
    else
      apt_tools+=("$tool")
    fi
  done
  if (( need_just )) && ! command -v npm >/dev/null 2>&1; then
    apt_tools+=(npm)
  fi
  if [[ "$(id -u)" != 0 ]] && command -v sudo >/dev/null 2>&1; then
    sudo=sudo
  fi

  # system packages, from apt-get
  if (( ${#apt_tools[@]} )); then
    if ! command -v apt-get >/dev/null 2>&1; then
      deps_log "no apt-get here: install by hand: ${apt_tools[*]} (see the README's Quick start)"
      return 1
    fi
    if [[ "$(id -u)" != 0 && -z "$sudo" ]]; then
      deps_log "not root and no sudo: install by hand: ${apt_tools[*]}"
      return 1
    fi
    deps_log "apt-get update"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null
    for tool in "${apt_tools[@]}"; do
      case "$tool" in
        jdk) pkg="$(apt_candidate openjdk-17-jdk-headless openjdk-21-jdk-headless)" ;;
        npm) pkg="nodejs npm" ;;
        *) pkg="$(apt_candidate "$tool")" ;;
      esac
      if [[ -n "$pkg" ]]; then
        read -r -a pkg_words <<<"$pkg"
        pkgs+=("${pkg_words[@]}")
      elif [[ "$tool" == chromium || "$tool" == chromium-driver ]]; then
        absent+=("$tool")
      else
        deps_log "apt has no package for $tool here: install it by hand"
        return 1
      fi
    done
    if (( ${#absent[@]} )); then
      deps_log "apt has no ${absent[*]} here: the viewer's browser test will skip itself"
    fi
    if (( ${#pkgs[@]} )); then
      deps_log "apt-get install ${pkgs[*]}"
      $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" </dev/null
      DEPS_INSTALLED+=("${pkgs[@]}")
    fi
    if printf '%s\n' "${apt_tools[@]}" | grep -qx jdk; then
      jdk_from_apt_on_path
    fi
  fi

  # just, from npm
  npm_bin_on_path
  if (( need_just )) && ! command -v just >/dev/null 2>&1; then
    if [[ "$(id -u)" == 0 || -n "$sudo" ]]; then
      deps_log "npm install -g rust-just"
      $sudo npm install -g --no-fund --no-audit rust-just </dev/null
    else
      deps_log "npm install -g --prefix ~/.local rust-just (not root, no sudo; add ~/.local/bin to PATH)"
      npm install -g --no-fund --no-audit --prefix "$HOME/.local" rust-just </dev/null
    fi
    npm_bin_on_path
    if ! command -v just >/dev/null 2>&1; then
      deps_log "just is not on PATH after npm install: add \$(npm prefix -g)/bin to PATH"
      return 1
    fi
    DEPS_INSTALLED+=(just)
  fi
  deps_log "installed: ${DEPS_INSTALLED[*]:-nothing}; $(deps_versions "$use")"
}

# One line of the versions a use relies on.
deps_versions() {
  local line
  line="just $(just --version 2>/dev/null | sed 's/^just //')"
  if [[ "${1:-run}" != just ]]; then
    line="java $(java_major), $(mvn -v 2>/dev/null | head -n 1 | sed 's/\x1b\[[0-9;]*m//g'), $line"
  fi
  echo "$line"
}

cmd_check() {
  local lacking=0 v
  ok() { printf '  ok       %-11s %s\n' "$1" "$2"; }
  bad() { printf '  MISSING  %-11s %s\n' "$1" "$2"; lacking=1; }
  opt() { printf '  -        %-11s %s\n' "$1" "$2"; }
  npm_bin_on_path
  echo "required:"
  v="$(java_major)"
  if (( v >= 17 )) && command -v javac >/dev/null 2>&1; then
    ok java "$(java -version 2>&1 | head -n 1)"
  elif (( v >= 17 )); then
    bad java "found Java $v without javac (a JRE): need a JDK (apt-get install -y openjdk-17-jdk-headless)"
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
  if v="$("$DEPS_ROOT/scripts/postgres.sh" check 2>/dev/null)"; then
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
  if [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]]; then
    ok chromium "$(/usr/bin/chromium --version 2>/dev/null | head -n 1) (the viewer's browser test)"
  else
    opt chromium "not found; the viewer's browser test skips itself (apt-get install -y chromium chromium-driver)"
  fi
  if (( lacking )); then
    echo "something required is missing: run \`just install-deps\` or \`./aiq\` (Debian/Ubuntu), or install it by hand"
    return 1
  fi
  echo "all required tools are present"
}

cmd_install() {
  deps_ensure all
  if (( ${#DEPS_INSTALLED[@]} == 0 )); then
    echo "system packages and just: nothing to install"
  fi
  echo "pre-fetching Maven dependencies (mvn -B -q -DskipTests install) ..."
  (cd "$DEPS_ROOT" && mvn -B -q -DskipTests install)
  echo "pre-fetching the dev Kafka broker classpath ..."
  "$DEPS_ROOT/scripts/kafka.sh" classpath
  cmd_check
}

# Run as a script (not sourced by ./aiq): the commands above.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  case "${1:-}" in
    check) cmd_check ;;
    ensure) deps_ensure "${2:-run}" ;;
    install) cmd_install ;;
    *)
      echo "usage: $0 {check|ensure [just|run|test|all]|install}" >&2
      exit 2
      ;;
  esac
fi
