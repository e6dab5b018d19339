#!/usr/bin/env bash
# Runs the AIQ Circles jar locally; used by the justfile (`just dev`, `just gateway`, ...).
#
#   scripts/app.sh start NAME ROLES PORT [--background] [--s3] [APP ARGS...]
#       builds the jar when missing or older than a pom.xml or src/main file, makes sure
#       PostgreSQL (scripts/postgres.sh ensure) and Kafka (scripts/kafka.sh start) are up, then
#       runs `java -jar app/target/aiq-circles.jar` with AIQ_ROLES=ROLES and AIQ_HTTP_PORT=PORT:
#       in the foreground, or with --background detached (log .dev/logs/NAME.log, pid
#       .dev/NAME.pid) until /health/ready answers 200. --s3: images in a local S3 server instead of
#       a folder (evaluates `scripts/s3proxy.sh start`, which exports the AIQ_STORE_* settings).
#   scripts/app.sh split [--background] [--s3] [APP ARGS...]
#       the chart's default layout as three processes on this machine, with no clustered event bus:
#       api (gateway,ingest,queries) on AIQ_HTTP_PORT (default 8080), inference on 8082 and the
#       results writer on 8083 (health and metrics), each started as `start NAME ROLES PORT
#       --background` would, meeting only in Kafka, PostgreSQL and the image store. In the
#       foreground it follows their logs; Ctrl-C stops all three (with --background: `just stop`).
#       --s3 evaluates `scripts/s3proxy.sh start` once and gives every process its AIQ_STORE_* lines.
#   scripts/app.sh stop [NAME...]   stops background processes (default: all of them)
#   scripts/app.sh status           background processes and their /health/ready answer
#   scripts/app.sh health [PORT]    /health/live and /health/ready, pretty-printed
#   scripts/app.sh build-if-stale   builds the jar only when needed
#
# Environment passed to the app: AIQ_ROLES, AIQ_HTTP_PORT, AIQ_KAFKA_BOOTSTRAP, AIQ_CLUSTER_ENABLED and
# AIQ_CLUSTER_EVENT_BUS_PORT (PORT + 1000) for a process whose gateway, ingest or queries run apart,
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
KNOWN_NAMES=(app api gateway ingest queries inference results webhooks)
# `split`: the Deployments of the chart's default layout, their roles and ports (api: AIQ_HTTP_PORT)
SPLIT_NAMES=(results inference api)

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
  if [[ ",$roles," == *",webhooks,"* ]]; then
    echo "  webhooks     signed with AIQ_WEBHOOKS_SECRET (unless given: the key in $DEV_DIR/webhooks-secret)"
  fi
  if [[ -n "${AIQ_KAFKA_BOOTSTRAP:-}" ]]; then
    echo "  Kafka        $AIQ_KAFKA_BOOTSTRAP"
    echo "  PostgreSQL   ${AIQ_DATABASE_URL:-}"
    if [[ "${AIQ_STORE_TYPE:-}" == s3 ]]; then
      echo "  images       S3 ${AIQ_STORE_S3_ENDPOINT:-(AWS)} bucket ${AIQ_STORE_S3_BUCKET:-}"
    else
      echo "  images       ${AIQ_STORE_ROOT:-}"
    fi
  fi
}

cmd_start() {
  (( $# >= 3 )) || die "usage: scripts/app.sh start NAME ROLES PORT [--background] [APP ARGS...]"
  local name="$1" roles="$2" port="$3"
  shift 3
  local background="" s3="" arg
  local -a app_args=()
  for arg in "$@"; do
    case "$arg" in
      --background | -d) background=1 ;;
      --s3) s3=1 ;;
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
  if [[ -n "$s3" ]]; then
    local s3_env
    s3_env="$("$ROOT/scripts/s3proxy.sh" start)" || die "the S3 server did not start (see above)"
    eval "$s3_env"
  fi

  export AIQ_ROLES="$roles"
  export AIQ_HTTP_PORT="$port"
  export AIQ_KAFKA_BOOTSTRAP="$bootstrap"
  export AIQ_DATABASE_URL
  export AIQ_STORE_ROOT="${AIQ_STORE_ROOT:-$DEV_DIR/images}"
  # Local development has no per-client request limit: load tests (just load-test) all come from
  # 127.0.0.1. Set AIQ_RATE_LIMIT_REQUESTS_PER_SECOND to try the limit.
  export AIQ_RATE_LIMIT_REQUESTS_PER_SECOND="${AIQ_RATE_LIMIT_REQUESTS_PER_SECOND:-0}"
  # Webhooks: a signing key generated once into .dev/webhooks-secret (every local process signs and
  # accepts callbacks with the same one; AIQ_WEBHOOKS_SECRET wins), and receivers on this machine
  # allowed (a callback to http://127.0.0.1:... is what local development tries first).
  if [[ -z "${AIQ_WEBHOOKS_SECRET:-}" ]]; then
    mkdir -p "$DEV_DIR"
    if [[ ! -s "$DEV_DIR/webhooks-secret" ]]; then
      (umask 077; printf 'whsec_%s\n' "$(head -c 32 /dev/urandom | base64)" >"$DEV_DIR/webhooks-secret")
    fi
    AIQ_WEBHOOKS_SECRET="$(cat "$DEV_DIR/webhooks-secret")"
  fi
  export AIQ_WEBHOOKS_SECRET
  export AIQ_WEBHOOKS_ALLOW_PRIVATE_TARGETS="${AIQ_WEBHOOKS_ALLOW_PRIVATE_TARGETS:-true}"
  mkdir -p "$AIQ_STORE_ROOT"
  # The gateway reaches ingest and queries over the event bus: a process that runs some of the three
  # without the others joins the local Vert.x cluster (`just gateway` + `just ingest` + `just queries`),
  # on an event-bus port of its own (PORT + 1000). Inference and the results writer meet the others only
  # in Kafka, PostgreSQL and the image store, so `just dev`, `just dev --split`, `just inference` and
  # `just results` need no cluster.
  if needs_cluster "$roles"; then
    export AIQ_CLUSTER_ENABLED="${AIQ_CLUSTER_ENABLED:-true}"
    export AIQ_CLUSTER_EVENT_BUS_PORT="${AIQ_CLUSTER_EVENT_BUS_PORT:-$(( port + 1000 ))}"
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

# True when ROLES holds some of gateway, ingest and queries but not all three: they talk over the event bus.
needs_cluster() { # roles
  local roles=",$1," r have=0
  [[ "$roles" == *",all,"* ]] && return 1
  for r in gateway ingest queries; do
    [[ "$roles" == *",$r,"* ]] && have=$(( have + 1 ))
  done
  (( have > 0 && have < 3 ))
}

split_roles() { # name
  case "$1" in
    api) echo "gateway,ingest,queries" ;;
    inference) echo "inference" ;;
    results) echo "results,webhooks" ;;
  esac
}

split_port() { # name
  case "$1" in
    api) echo "${AIQ_HTTP_PORT:-8080}" ;;
    inference) echo "${AIQ_SPLIT_INFERENCE_PORT:-8082}" ;;
    results) echo "${AIQ_SPLIT_RESULTS_PORT:-8083}" ;;
  esac
}

cmd_split() {
  local background="" s3="" arg name pid
  local -a app_args=()
  for arg in "$@"; do
    case "$arg" in
      --background | -d) background=1 ;;
      --s3) s3=1 ;;
      --split) ;;
      *) app_args+=("$arg") ;;
    esac
  done
  for name in "${SPLIT_NAMES[@]}"; do
    pid="$(running_pid "$name")"
    [[ -z "$pid" ]] || die "$name is already running (pid $pid); \`just stop\` first"
  done
  pid="$(running_pid app)"
  [[ -z "$pid" ]] || die "just dev is already running in the background (pid $pid); \`just stop\` first"
  if [[ -n "$s3" ]]; then
    # once for all three processes: they must share one bucket
    [[ -x "$ROOT/scripts/s3proxy.sh" ]] || die "--s3 needs scripts/s3proxy.sh"
    local s3_env
    s3_env="$("$ROOT/scripts/s3proxy.sh" start)" || die "the S3 server did not start (see above)"
    eval "$s3_env"
  fi
  # no process of this layout joins a cluster, whatever the environment says
  export AIQ_CLUSTER_ENABLED=false
  # a failed start, Ctrl-C or (in the foreground) one process dying stops the others
  trap 'trap - EXIT; log "stopping the split layout"; cmd_stop "${SPLIT_NAMES[@]}"' EXIT
  trap 'exit 130' INT TERM
  for name in "${SPLIT_NAMES[@]}"; do
    # each in a subshell: cmd_start exports its own AIQ_ROLES and AIQ_HTTP_PORT
    ( cmd_start "$name" "$(split_roles "$name")" "$(split_port "$name")" --background \
        ${app_args[@]+"${app_args[@]}"} ) || die "$name did not start (log $DEV_DIR/logs/$name.log)"
  done
  echo
  echo "AIQ Circles as the chart runs it (mode split): three processes, no clustered event bus; they meet"
  echo "only in Kafka, PostgreSQL and the image store${s3:+ (S3: ${AIQ_STORE_S3_ENDPOINT:-} bucket ${AIQ_STORE_S3_BUCKET:-})}."
  for name in api inference results; do
    printf '  %-10s http://localhost:%s   roles %s   (log %s)\n' "$name" "$(split_port "$name")" \
        "$(split_roles "$name")" "$DEV_DIR/logs/$name.log"
  done
  echo "  API and Swagger UI on the api process: http://localhost:$(split_port api)/docs; the others serve"
  echo "  /health/* and /metrics (inference also the KServe endpoints)."
  if [[ -n "$background" ]]; then
    trap - EXIT INT TERM
    echo "Running in the background; \`just stop\` stops them (and Kafka, PostgreSQL)."
    return 0
  fi
  echo "Following their logs; Ctrl-C stops all three (Kafka and PostgreSQL keep running: just stop)."
  local -a logs=()
  for name in "${SPLIT_NAMES[@]}"; do
    logs+=("$DEV_DIR/logs/$name.log")
  done
  tail -n 0 -F "${logs[@]}" &
  SPLIT_TAIL_PID=$!
  trap 'trap - EXIT; kill "$SPLIT_TAIL_PID" 2>/dev/null || true; log "stopping the split layout"; cmd_stop "${SPLIT_NAMES[@]}"' EXIT
  while :; do
    for name in "${SPLIT_NAMES[@]}"; do
      if [[ -z "$(running_pid "$name")" ]]; then
        die "$name exited (log $DEV_DIR/logs/$name.log); stopping the others"
      fi
    done
    sleep 1
  done
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
  split) shift; cmd_split "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  status) cmd_status ;;
  health) shift; cmd_health "$@" ;;
  build-if-stale) cmd_build_if_stale ;;
  *)
    echo "usage: $0 {start NAME ROLES PORT [--background] [ARGS...]|split [--background] [--s3] [ARGS...]|stop [NAME...]|status|health [PORT]|build-if-stale}" >&2
    exit 2
    ;;
esac
