#!/usr/bin/env bash
# Runs the AIQ Circles jar locally; used by the justfile (`just dev`, `just gateway`, ...).
#
#   scripts/app.sh start NAME ROLES PORT [--background] [APP ARGS...]
#       builds the jar when missing or older than a pom.xml or src/main file, makes sure
#       PostgreSQL (scripts/postgres.sh ensure) and Kafka (scripts/kafka.sh start) are up, then
#       runs `java -jar app/target/aiq-circles.jar` with AIQ_ROLES=ROLES and AIQ_HTTP_PORT=PORT:
#       in the foreground, or with --background detached (log .dev/logs/NAME.log, pid
#       .dev/NAME.pid) until /health/ready answers 200.
#   scripts/app.sh stop [NAME...]   stops background processes (default: all of them)
#   scripts/app.sh status           background processes and their /health/ready answer
#   scripts/app.sh health [PORT]    /health/live and /health/ready, pretty-printed
#   scripts/app.sh build-if-stale   builds the jar only when needed
#
# Environment passed to the app: AIQ_ROLES, AIQ_HTTP_PORT, AIQ_KAFKA_BOOTSTRAP, AIQ_CLUSTER_ENABLED (roles apart),
# AIQ_DATABASE_URL, AIQ_STORE_ROOT (default .dev/images); any other AIQ_* variable already
# exported (AIQ_DETECTOR, AIQ_CONFIG_FILE, AIQ_HTTP_HOST, AIQ_DATABASE_USER, ...) is inherited.
#   AIQ_JAVA_OPTS        extra JVM options for the app
#   AIQ_APP_JAR          run this jar instead of app/target/aiq-circles.jar (never built)
#   AIQ_START_TIMEOUT    seconds --background waits for /health/ready   default 60
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEV_DIR="${AIQ_DEV_DIR:-$ROOT/.dev}"
# AIQ_APP_JAR runs another jar as is (no build), e.g. a release or a stand-in for script tests.
JAR="${AIQ_APP_JAR:-$ROOT/app/target/aiq-circles.jar}"
KNOWN_NAMES=(app gateway ingest inference results)

if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then
  JAVA="$JAVA_HOME/bin/java"
else
  JAVA=java
fi

log() { printf '[app] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Pid recorded for NAME when that process is alive and is our jar; a stale pid file is removed.
running_pid() { # name
  local file="$DEV_DIR/$1.pid" pid
  [[ -f "$file" ]] || return 0
  pid="$(cat "$file" 2>/dev/null || true)"
  if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null \
      && grep -qa 'aiq-circles.jar' "/proc/$pid/cmdline" 2>/dev/null; then
    echo "$pid"
  else
    rm -f "$file" "$DEV_DIR/$1.port"
  fi
}

http_code() { # url
  curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$1" 2>/dev/null || true
}

cmd_build_if_stale() {
  local newer=""
  if [[ -n "${AIQ_APP_JAR:-}" ]]; then
    [[ -f "$JAR" ]] || die "AIQ_APP_JAR=$JAR does not exist"
    return 0
  fi
  if [[ -f "$JAR" ]]; then
    newer="$(cd "$ROOT" && find . \( -name target -o -name .dev -o -name .git -o -name node_modules \
        -o -path ./dev \) -prune -o -type f \( -name pom.xml -o -path '*/src/main/*' \) \
        -newer "$JAR" -print -quit)"
    if [[ -z "$newer" ]]; then
      return 0
    fi
    log "rebuilding: $newer is newer than $JAR"
  else
    log "building $JAR (not built yet)"
  fi
  command -v mvn >/dev/null 2>&1 || die "mvn not found (just install-deps)"
  (cd "$ROOT" && mvn -B -q -DskipTests package) || die "build failed (mvn -B -q -DskipTests package)"
  [[ -f "$JAR" ]] || die "the build did not produce $JAR"
}

print_urls() { # roles port
  local roles="$1" port="$2" base="http://localhost:$2"
  if [[ ",$roles," == *",gateway,"* ]]; then
    echo "  API          $base"
    echo "  Swagger UI   $base/docs"
    echo "  OpenAPI      $base/openapi.yaml"
  fi
  echo "  health       $base/health/ready   (live: $base/health/live)"
  echo "  metrics      $base/metrics"
  echo "  roles        $roles"
  if [[ -n "${AIQ_KAFKA_BOOTSTRAP:-}" ]]; then
    echo "  Kafka        $AIQ_KAFKA_BOOTSTRAP"
    echo "  PostgreSQL   ${AIQ_DATABASE_URL:-}"
    echo "  images       ${AIQ_STORE_ROOT:-}"
  fi
}

cmd_start() {
  (( $# >= 3 )) || die "usage: scripts/app.sh start NAME ROLES PORT [--background] [APP ARGS...]"
  local name="$1" roles="$2" port="$3"
  shift 3
  local background="" arg
  local -a app_args=()
  for arg in "$@"; do
    case "$arg" in
      --background | -d) background=1 ;;
      *) app_args+=("$arg") ;;
    esac
  done

  local pid
  pid="$(running_pid "$name")"
  if [[ -n "$pid" ]]; then
    if [[ -n "$background" ]]; then
      log "$name is already running (pid $pid, log $DEV_DIR/logs/$name.log)"
      print_urls "$roles" "$(cat "$DEV_DIR/$name.port" 2>/dev/null || echo "$port")"
      return 0
    fi
    die "$name is already running in the background (pid $pid); \`just stop\` first"
  fi
  port_open "$port" && die "port $port is already in use (another app instance? \`just status\`, \`just stop\`)"

  cmd_build_if_stale
  local db_env
  db_env="$("$ROOT/scripts/postgres.sh" ensure)" || die "no PostgreSQL (see above)"
  eval "$db_env"
  local bootstrap
  bootstrap="$("$ROOT/scripts/kafka.sh" start)" || die "Kafka did not start (see above)"

  export AIQ_ROLES="$roles"
  export AIQ_HTTP_PORT="$port"
  export AIQ_KAFKA_BOOTSTRAP="$bootstrap"
  export AIQ_DATABASE_URL
  export AIQ_STORE_ROOT="${AIQ_STORE_ROOT:-$DEV_DIR/images}"
  # Local development has no per-client request limit: load tests (just load-test) all come from
  # 127.0.0.1. Set AIQ_RATE_LIMIT_REQUESTS_PER_SECOND to try the limit.
  export AIQ_RATE_LIMIT_REQUESTS_PER_SECOND="${AIQ_RATE_LIMIT_REQUESTS_PER_SECOND:-0}"
  mkdir -p "$AIQ_STORE_ROOT"
  # A process running only some roles joins the local Vert.x cluster, so the event bus reaches the
  # roles of the other processes (`just gateway` + `just ingest` + ...); all roles need no cluster.
  if [[ "$roles" != "gateway,ingest,inference,results" ]]; then
    export AIQ_CLUSTER_ENABLED="${AIQ_CLUSTER_ENABLED:-true}"
  fi

  local -a cmd=("$JAVA")
  if [[ -n "${AIQ_JAVA_OPTS:-}" ]]; then
    local -a opts
    read -r -a opts <<<"$AIQ_JAVA_OPTS"
    cmd+=("${opts[@]}")
  fi
  cmd+=(-jar "$JAR")
  (( ${#app_args[@]} )) && cmd+=("${app_args[@]}")

  if [[ -z "$background" ]]; then
    echo "AIQ Circles ($name) starting in the foreground; Ctrl-C stops it (Kafka and PostgreSQL keep running: just stop)"
    print_urls "$roles" "$port"
    cd "$ROOT"
    exec "${cmd[@]}"
  fi

  local log_file="$DEV_DIR/logs/$name.log" pid_file="$DEV_DIR/$name.pid"
  mkdir -p "$DEV_DIR/logs"
  rm -f "$pid_file"
  {
    echo
    echo "===== scripts/app.sh start $name $(date -Is) roles=$roles port=$port ====="
  } >>"$log_file"
  cd "$ROOT"
  # The child records its own pid, then execs the JVM (same pid), detached from this terminal.
  # shellcheck disable=SC2016  # $$ and "$@" are expanded by the inner bash, on purpose
  setsid nohup bash -c 'echo $$ >"$0"; exec "$@"' "$pid_file" "${cmd[@]}" \
    </dev/null >>"$log_file" 2>&1 &
  echo "$port" >"$DEV_DIR/$name.port"

  local timeout="${AIQ_START_TIMEOUT:-60}" t0=$SECONDS code=""
  log "started $name in the background, waiting up to ${timeout}s for http://127.0.0.1:$port/health/ready ..."
  while (( SECONDS - t0 < timeout )); do
    pid="$(cat "$pid_file" 2>/dev/null || true)"
    if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then
      log "$name exited during startup; last lines of $log_file:"
      tail -n 40 "$log_file" >&2 || true
      rm -f "$pid_file" "$DEV_DIR/$name.port"
      exit 1
    fi
    code="$(http_code "http://127.0.0.1:$port/health/ready")"
    [[ "$code" == 200 ]] && break
    sleep 0.5
  done
  if [[ "$code" != 200 ]]; then
    log "/health/ready did not answer 200 within ${timeout}s (last answer: ${code:-none}); it keeps running (pid ${pid:-?}). Last lines of $log_file:"
    tail -n 40 "$log_file" >&2 || true
    exit 1
  fi
  echo "AIQ Circles ($name) is ready after $(( SECONDS - t0 ))s (pid $pid, log $log_file)"
  print_urls "$roles" "$port"
}

stop_one() { # name
  local name="$1" pid i
  pid="$(running_pid "$name")"
  [[ -n "$pid" ]] || return 0
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for (( i = 0; i < 120; i++ )); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.25
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name still running after 30s, sending KILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$DEV_DIR/$name.pid" "$DEV_DIR/$name.port"
}

cmd_stop() {
  local name
  if (( $# == 0 )); then
    set -- "${KNOWN_NAMES[@]}"
  fi
  for name in "$@"; do
    stop_one "$name"
  done
}

cmd_status() {
  local name pid port any=""
  for name in "${KNOWN_NAMES[@]}"; do
    pid="$(running_pid "$name")"
    [[ -n "$pid" ]] || continue
    any=1
    port="$(cat "$DEV_DIR/$name.port" 2>/dev/null || echo "?")"
    echo "$name: running (pid $pid), port $port, /health/ready -> $(http_code "http://127.0.0.1:$port/health/ready"), log $DEV_DIR/logs/$name.log"
  done
  if [[ -z "$any" ]]; then
    echo "app: no background process (just dev --background, just gateway --background, ...)"
    if port_open "${AIQ_HTTP_PORT:-8080}"; then
      echo "app: something answers on port ${AIQ_HTTP_PORT:-8080}: /health/ready -> $(http_code "http://127.0.0.1:${AIQ_HTTP_PORT:-8080}/health/ready")"
    fi
  fi
}

pretty_json() {
  if command -v jq >/dev/null 2>&1; then
    jq . 2>/dev/null || true
  elif command -v python3 >/dev/null 2>&1; then
    python3 -m json.tool 2>/dev/null || true
  else
    cat
  fi
}

cmd_health() {
  local port="${1:-${AIQ_HTTP_PORT:-8080}}" path body code rc=0
  command -v curl >/dev/null 2>&1 || die "curl not found (just install-deps)"
  for path in /health/live /health/ready; do
    body="$(curl -s --max-time 5 -w '\n%{http_code}' "http://127.0.0.1:$port$path" || true)"
    code="${body##*$'\n'}"
    body="${body%$'\n'*}"
    [[ "$code" == 000 ]] && code=""
    echo "GET http://localhost:$port$path -> ${code:+HTTP }${code:-no answer}"
    if [[ -n "$body" ]]; then
      # pretty when it is JSON, as is otherwise
      printf '%s\n' "$body" | pretty_json | grep . || printf '%s\n' "$body"
    fi
    [[ "$code" == 200 ]] || rc=1
  done
  return "$rc"
}

case "${1:-}" in
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  status) cmd_status ;;
  health) shift; cmd_health "$@" ;;
  build-if-stale) cmd_build_if_stale ;;
  *)
    echo "usage: $0 {start NAME ROLES PORT [--background] [ARGS...]|stop [NAME...]|status|health [PORT]|build-if-stale}" >&2
    exit 2
    ;;
esac
