#!/usr/bin/env bash
# Finds or starts a PostgreSQL for local development and tests.
#
#   eval "$(scripts/postgres.sh ensure)"   sets AIQ_DATABASE_URL (the only line on stdout)
#   scripts/postgres.sh stop               stops the throwaway cluster, if this script started one
#   scripts/postgres.sh status             what `ensure` would use, and whether it answers
#   scripts/postgres.sh check              exit 0 when `ensure` can succeed (no side effects; with
#                                          AIQ_PG_FORCE_LOCAL=1: when a throwaway cluster can be made)
#   scripts/postgres.sh drop-dev-database [--force]
#                                          `just clean`: drops what `ensure` gave `just dev`, so that
#                                          no job outlives the images deleted with .dev (see below)
#
# `ensure` picks, in this order:
#   a) AIQ_DATABASE_URL, when set (it must answer; it is echoed back unchanged);
#   b) a server on 127.0.0.1:5432 (user postgres, no password): database `aiq` is created if
#      missing and postgresql://postgres@127.0.0.1:5432/aiq is used;
#   c) a throwaway cluster made with the installed server binaries (initdb + pg_ctl) under
#      .dev/postgres/ (or /tmp/aiq-postgres-<uid>-<hash> when the user postgres cannot reach the
#      repository), on 127.0.0.1 and the first free port from 55432, trust auth, fsync off;
#      reused while it runs;
#   d) otherwise: says what is missing and exits 1.
#
# Environment:
#   AIQ_DATABASE_URL      use this server (case a)
#   AIQ_PG_FORCE_LOCAL=1  skip a) and b): always use the throwaway cluster
#   AIQ_PG_PORT           first port tried for the throwaway cluster       default 55432
#   AIQ_PG_BINDIR         server binaries to use for it     default: pg_config --bindir, newest
#                         /usr/lib/postgresql/*/bin
#   AIQ_DEV_DIR           root of local state                              default <repo>/.dev
#
# `drop-dev-database` drops only database `aiq` and only where `ensure` made it: on the server on
# 127.0.0.1:5432 (not with AIQ_PG_FORCE_LOCAL=1, and never a database AIQ_DATABASE_URL names: it
# says what to do instead). It refuses while clients are connected, unless --force (their sessions
# are ended). A throwaway cluster under .dev goes with .dev; one kept in /tmp is stopped and
# deleted. Exit 0 when nothing answers on 127.0.0.1:5432; 1 only when a drop was refused or failed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEV_DIR="${AIQ_DEV_DIR:-$ROOT/.dev}"
# Where the throwaway cluster lives is remembered here (it may be outside the repository).
LOCATION_FILE="$DEV_DIR/postgres.location"
SYSTEM_HOST=127.0.0.1
SYSTEM_PORT=5432
DB_NAME=aiq
DB_USER=postgres
FIRST_LOCAL_PORT="${AIQ_PG_PORT:-55432}"

log() { printf '[postgres] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

port_open() { # host port
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# True when a PostgreSQL server answers on host:port (pg_isready when installed, else TCP).
pg_answers() { # host port
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -h "$1" -p "$2" -t 3
  else
    port_open "$1" "$2"
  fi
}

# Prints "host port" parsed from a libpq/JDBC style URL:
#   postgresql://user:pass@host:port/db?x=y  postgres://host/db  jdbc:postgresql://host:port/db
#   postgresql://[::1]:5432/db
parse_url_host_port() {
  local rest="$1" hostport host port
  rest="${rest#jdbc:}"
  rest="${rest#*://}"
  hostport="${rest%%[/?]*}"
  hostport="${hostport##*@}"
  # multi-host URLs (host1:5432,host2:5432): check the first one
  hostport="${hostport%%,*}"
  if [[ "$hostport" == \[* ]]; then
    host="${hostport%%]*}"
    host="${host#[}"
    port="${hostport#*]}"
    port="${port#:}"
  elif [[ "$hostport" == *:* ]]; then
    host="${hostport%%:*}"
    port="${hostport##*:}"
  else
    host="$hostport"
    port=""
  fi
  if [[ -z "$host" && "$rest" == *"host="* ]]; then
    host="${rest##*host=}"
    host="${host%%&*}"
  fi
  echo "${host:-localhost} ${port:-5432}"
}

# Prints the line callers eval; the only thing `ensure` writes to stdout (fd 3, see cmd_ensure).
emit_url() {
  printf 'export AIQ_DATABASE_URL=%q\n' "$1" >&3
}

# Runs psql as superuser against host:port; extra arguments follow.
psql_su() { # host port args...
  local host="$1" port="$2"
  shift 2
  PGCONNECT_TIMEOUT=5 psql -X -q -v ON_ERROR_STOP=1 -h "$host" -p "$port" -U "$DB_USER" "$@"
}

# Creates database aiq on host:port unless it exists. Returns 1 when psql cannot log in.
ensure_database() { # host port
  local host="$1" port="$2" exists
  command -v psql >/dev/null 2>&1 \
    || die "psql not found (needed to create database $DB_NAME): apt-get install -y postgresql-client"
  if ! exists="$(psql_su "$host" "$port" -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'" 2>&1)"; then
    log "cannot log in as $DB_USER on $host:$port without a password: $exists"
    return 1
  fi
  if [[ "$exists" != "1" ]]; then
    log "creating database $DB_NAME on $host:$port"
    # A concurrent `ensure` may win the race; that is fine as long as the database exists.
    psql_su "$host" "$port" -d postgres -c "CREATE DATABASE $DB_NAME" >&2 2>/dev/null \
      || [[ "$(psql_su "$host" "$port" -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")" == "1" ]] \
      || die "could not create database $DB_NAME on $host:$port"
  fi
}

# Directory with initdb and pg_ctl, newest installed version first; nothing when none.
find_pg_bindir() {
  local dir
  if [[ -n "${AIQ_PG_BINDIR:-}" ]]; then
    if [[ -x "$AIQ_PG_BINDIR/initdb" && -x "$AIQ_PG_BINDIR/pg_ctl" ]]; then
      echo "$AIQ_PG_BINDIR"
    else
      log "AIQ_PG_BINDIR=$AIQ_PG_BINDIR has no initdb/pg_ctl"
    fi
    return 0
  fi
  if command -v pg_config >/dev/null 2>&1; then
    dir="$(pg_config --bindir 2>/dev/null || true)"
    if [[ -n "$dir" && -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then
      echo "$dir"
      return 0
    fi
  fi
  for dir in $(find /usr/lib/postgresql /usr/pgsql-* /usr/local/pgsql -maxdepth 2 -type d \
      -name bin 2>/dev/null | sort -V -r); do
    if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then
      echo "$dir"
      return 0
    fi
  done
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v initdb)"
  fi
}

# Runs a server binary as the cluster's owner: user postgres when we are root.
as_owner() {
  if [[ "$(id -u)" == 0 ]]; then
    # from / so that the tools do not complain about a current directory they cannot enter
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

# The folder for the throwaway cluster: the remembered one, else .dev/postgres when the owner
# can write there, else a per-user, per-repository folder under /tmp.
local_dir() {
  if [[ -s "$LOCATION_FILE" ]]; then
    cat "$LOCATION_FILE"
    return 0
  fi
  local dir="$DEV_DIR/postgres"
  mkdir -p "$dir"
  if [[ "$(id -u)" == 0 ]]; then
    chown postgres: "$dir"
    if ! runuser -u postgres -- test -w "$dir" -a -x "$dir"; then
      local hash
      hash="$(printf '%s' "$ROOT" | sha256sum | cut -c1-12)"
      rmdir "$dir" 2>/dev/null || true
      dir="/tmp/aiq-postgres-$(id -u)-$hash"
      log "user postgres cannot reach $DEV_DIR; the throwaway cluster lives in $dir"
      mkdir -p "$dir"
      chmod 700 "$dir"
      chown postgres: "$dir"
    fi
  fi
  echo "$dir" >"$LOCATION_FILE"
  echo "$dir"
}

# Port of the running throwaway cluster in $1, or nothing.
local_running_port() { # dir
  local dir="$1" bindir
  [[ -f "$dir/data/postmaster.pid" ]] || return 0
  bindir="$(find_pg_bindir)"
  [[ -n "$bindir" ]] || return 0
  if as_owner "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    # line 4 of postmaster.pid is the port
    sed -n '4p' "$dir/data/postmaster.pid"
  fi
}

# Case c): start (or reuse) the throwaway cluster and print its URL.
ensure_local() {
  local bindir
  bindir="$(find_pg_bindir)"
  [[ -n "$bindir" ]] || return 1
  if [[ "$(id -u)" == 0 ]] && ! id postgres >/dev/null 2>&1; then
    die "running as root but there is no user 'postgres' to own the throwaway cluster (useradd -r postgres, or set AIQ_DATABASE_URL)"
  fi
  mkdir -p "$DEV_DIR"
  exec 8>"$DEV_DIR/.postgres.lock"
  flock -w 120 8 || die "another scripts/postgres.sh holds $DEV_DIR/.postgres.lock"

  local dir data port
  dir="$(local_dir)"
  data="$dir/data"
  port="$(local_running_port "$dir")"
  if [[ -n "$port" ]] && pg_answers 127.0.0.1 "$port"; then
    log "reusing the throwaway cluster in $data (port $port)"
  else
    if [[ ! -f "$data/PG_VERSION" ]]; then
      log "creating a throwaway cluster with $bindir/initdb in $data"
      rm -rf "$data"
      mkdir -p "$dir"
      [[ "$(id -u)" == 0 ]] && chown postgres: "$dir"
      as_owner "$bindir/initdb" --no-sync -D "$data" -U "$DB_USER" --auth=trust \
        -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; die "initdb failed (log above)"; }
      local sockdir="$data/socket"
      # Unix socket paths are limited to 107 bytes; go TCP-only when ours would be longer.
      if (( ${#sockdir} > 90 )); then sockdir=""; fi
      [[ -n "$sockdir" ]] && as_owner mkdir -p "$sockdir"
      as_owner tee -a "$data/postgresql.conf" >/dev/null <<EOF

# added by scripts/postgres.sh (throwaway development/test cluster)
listen_addresses = '127.0.0.1'
unix_socket_directories = '$sockdir'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
EOF
    fi
    local attempt started=""
    port="$FIRST_LOCAL_PORT"
    for (( attempt = 0; attempt < 20; attempt++ )); do
      if pg_answers 127.0.0.1 "$port" || port_open 127.0.0.1 "$port"; then
        port=$(( port + 1 ))
        continue
      fi
      log "starting it on 127.0.0.1:$port (log $dir/postgres.log)"
      # fds 3 (our stdout, often a command-substitution pipe) and 8 (the lock) must not be
      # inherited by the server: it would keep `$(scripts/postgres.sh ensure)` waiting forever.
      if as_owner "$bindir/pg_ctl" -D "$data" -l "$dir/postgres.log" -w -t 60 \
          -o "-p $port" start </dev/null >&2 3>&- 8>&-; then
        started=1
        break
      fi
      tail -n 20 "$dir/postgres.log" >&2 || true
      port=$(( port + 1 ))
    done
    [[ -n "$started" ]] || die "could not start the throwaway cluster (log: $dir/postgres.log)"
    touch "$dir/started-by-aiq"
  fi
  ensure_database 127.0.0.1 "$port" || die "cannot log in to the throwaway cluster on port $port"
  emit_url "postgresql://$DB_USER@127.0.0.1:$port/$DB_NAME"
}

cmd_ensure() {
  # stdout carries only the export line (fd 3); everything else goes to stderr.
  exec 3>&1 1>&2
  if [[ "${AIQ_PG_FORCE_LOCAL:-}" != 1 ]]; then
    # a) an explicit URL
    if [[ -n "${AIQ_DATABASE_URL:-}" ]]; then
      local host port
      read -r host port < <(parse_url_host_port "$AIQ_DATABASE_URL")
      if pg_answers "$host" "$port"; then
        log "using AIQ_DATABASE_URL ($host:$port answers)"
        emit_url "$AIQ_DATABASE_URL"
        return 0
      fi
      die "AIQ_DATABASE_URL is set but no PostgreSQL answers on $host:$port. Start that server, fix the URL, or unset AIQ_DATABASE_URL to let this script find or start one."
    fi
    # b) a server on 127.0.0.1:5432
    if pg_answers "$SYSTEM_HOST" "$SYSTEM_PORT"; then
      if ensure_database "$SYSTEM_HOST" "$SYSTEM_PORT"; then
        log "using the server on $SYSTEM_HOST:$SYSTEM_PORT, database $DB_NAME"
        emit_url "postgresql://$DB_USER@$SYSTEM_HOST:$SYSTEM_PORT/$DB_NAME"
        return 0
      fi
      log "the server on $SYSTEM_HOST:$SYSTEM_PORT needs a password; trying a throwaway cluster instead (or set AIQ_DATABASE_URL=postgresql://user:password@$SYSTEM_HOST:$SYSTEM_PORT/$DB_NAME)"
    fi
  fi
  # c) a throwaway cluster from the installed server binaries
  if ensure_local; then
    return 0
  fi
  # d) nothing to use
  {
    echo "[postgres] ERROR: no PostgreSQL available:"
    if [[ "${AIQ_PG_FORCE_LOCAL:-}" == 1 ]]; then
      echo "  - AIQ_PG_FORCE_LOCAL=1: only a throwaway cluster was considered"
    else
      echo "  - AIQ_DATABASE_URL is not set"
      echo "  - nothing usable answers on $SYSTEM_HOST:$SYSTEM_PORT"
    fi
    echo "  - no PostgreSQL server binaries (initdb, pg_ctl) found (pg_config --bindir, /usr/lib/postgresql/*/bin)"
    echo "Fix one of:"
    echo "  - install the server: apt-get install -y postgresql   (or: just install-deps); this script then starts a throwaway cluster"
    echo "  - start a server on $SYSTEM_HOST:$SYSTEM_PORT with user postgres (trust auth)"
    echo "  - point at a server: export AIQ_DATABASE_URL=postgresql://user:password@host:5432/aiq"
  } >&2
  exit 1
}

cmd_stop() {
  local dir bindir
  if [[ ! -s "$LOCATION_FILE" ]]; then
    log "no throwaway cluster was started here"
    return 0
  fi
  dir="$(cat "$LOCATION_FILE")"
  if [[ ! -f "$dir/started-by-aiq" || ! -f "$dir/data/postmaster.pid" ]]; then
    log "the throwaway cluster in $dir is not running"
    return 0
  fi
  bindir="$(find_pg_bindir)"
  [[ -n "$bindir" ]] || die "server binaries not found; cannot run pg_ctl stop for $dir/data"
  if as_owner "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    log "stopping the throwaway cluster in $dir/data"
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >&2
  else
    log "the throwaway cluster in $dir is not running"
  fi
}

cmd_status() {
  local host port dir lport
  if [[ -n "${AIQ_DATABASE_URL:-}" ]]; then
    read -r host port < <(parse_url_host_port "$AIQ_DATABASE_URL")
    if pg_answers "$host" "$port"; then
      echo "postgres: AIQ_DATABASE_URL answers ($host:$port)"
    else
      echo "postgres: AIQ_DATABASE_URL is set but $host:$port does not answer"
    fi
  fi
  if pg_answers "$SYSTEM_HOST" "$SYSTEM_PORT"; then
    echo "postgres: server on $SYSTEM_HOST:$SYSTEM_PORT answers (ensure uses it, database $DB_NAME)"
  else
    echo "postgres: nothing on $SYSTEM_HOST:$SYSTEM_PORT"
  fi
  if [[ -s "$LOCATION_FILE" ]]; then
    dir="$(cat "$LOCATION_FILE")"
    lport="$(local_running_port "$dir")"
    if [[ -n "$lport" ]]; then
      echo "postgres: throwaway cluster running in $dir/data: postgresql://$DB_USER@127.0.0.1:$lport/$DB_NAME"
    else
      echo "postgres: throwaway cluster in $dir/data is not running"
    fi
  fi
}

cmd_check() {
  local host port bindir
  if [[ "${AIQ_PG_FORCE_LOCAL:-}" == 1 ]]; then
    # only a throwaway cluster would do: its binaries (and, as root, a user to own it) must exist
    bindir="$(find_pg_bindir)"
    if [[ -z "$bindir" ]]; then
      echo "AIQ_PG_FORCE_LOCAL=1 but no server binaries (initdb, pg_ctl): apt-get install -y postgresql"
      return 1
    fi
    if [[ "$(id -u)" == 0 ]] && ! id postgres >/dev/null 2>&1; then
      echo "AIQ_PG_FORCE_LOCAL=1, running as root, but there is no user 'postgres' to own a throwaway cluster"
      return 1
    fi
    echo "server binaries in $bindir (a throwaway cluster will be started)"
    return 0
  fi
  if [[ -n "${AIQ_DATABASE_URL:-}" ]]; then
    read -r host port < <(parse_url_host_port "$AIQ_DATABASE_URL")
    if pg_answers "$host" "$port"; then
      echo "AIQ_DATABASE_URL answers ($host:$port)"
      return 0
    fi
    echo "AIQ_DATABASE_URL is set but $host:$port does not answer"
    return 1
  fi
  if pg_answers "$SYSTEM_HOST" "$SYSTEM_PORT"; then
    echo "server answers on $SYSTEM_HOST:$SYSTEM_PORT"
    return 0
  fi
  bindir="$(find_pg_bindir)"
  if [[ -n "$bindir" ]]; then
    echo "server binaries in $bindir (a throwaway cluster will be started)"
    return 0
  fi
  echo "no server reachable and no server binaries (apt-get install -y postgresql, or set AIQ_DATABASE_URL)"
  return 1
}

# URL of the dev database on the system server, as `ensure` prints it in case b).
system_dev_url() {
  echo "postgresql://$DB_USER@$SYSTEM_HOST:$SYSTEM_PORT/$DB_NAME"
}

# Drops database aiq on the system server when `ensure` would have used it (case b); one line says
# what was done. Returns 1 only when the drop was refused (clients connected, no --force) or failed.
drop_system_dev_database() { # force: "" or 1
  local force="$1" out others
  if ! pg_answers "$SYSTEM_HOST" "$SYSTEM_PORT"; then
    log "no PostgreSQL answers on $SYSTEM_HOST:$SYSTEM_PORT: no dev database to drop there"
    return 0
  fi
  if ! command -v psql >/dev/null 2>&1; then
    # `ensure` cannot have made database aiq there without psql
    log "psql not found: database $DB_NAME on $SYSTEM_HOST:$SYSTEM_PORT (if any) is not dropped (apt-get install -y postgresql-client)"
    return 0
  fi
  if ! out="$(psql_su "$SYSTEM_HOST" "$SYSTEM_PORT" -d postgres -tAc \
      "SELECT count(*) FROM pg_database WHERE datname = '$DB_NAME'" 2>&1)"; then
    # then `ensure` used a throwaway cluster instead (case c), which goes with .dev
    log "cannot log in as $DB_USER on $SYSTEM_HOST:$SYSTEM_PORT without a password ($out): not the dev database's server, nothing dropped there"
    return 0
  fi
  if [[ "$out" != 1 ]]; then
    log "no database $DB_NAME on $SYSTEM_HOST:$SYSTEM_PORT: nothing to drop"
    return 0
  fi
  others="$(psql_su "$SYSTEM_HOST" "$SYSTEM_PORT" -d postgres -tAc \
    "SELECT string_agg(format('pid %s %s%s', pid, coalesce(nullif(application_name, ''), 'client'),
         coalesce(' from ' || host(client_addr), '')), ', ')
       FROM pg_stat_activity WHERE datname = '$DB_NAME' AND pid <> pg_backend_pid()")"
  if [[ -n "$others" ]]; then
    if [[ -z "$force" ]]; then
      log "ERROR: database $DB_NAME on $SYSTEM_HOST:$SYSTEM_PORT is in use ($others): not dropped; stop those clients (another checkout's just dev?), or just clean --force to end their sessions"
      return 1
    fi
    psql_su "$SYSTEM_HOST" "$SYSTEM_PORT" -d postgres -tAc \
      "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '$DB_NAME' AND pid <> pg_backend_pid()" >/dev/null
  fi
  if ! out="$(psql_su "$SYSTEM_HOST" "$SYSTEM_PORT" -d postgres -c "DROP DATABASE IF EXISTS $DB_NAME" 2>&1)"; then
    log "ERROR: could not drop database $DB_NAME on $SYSTEM_HOST:$SYSTEM_PORT: $out"
    return 1
  fi
  log "dropped database $DB_NAME on $SYSTEM_HOST:$SYSTEM_PORT${others:+ (ended: $others)} (the next just dev creates it afresh)"
}

cmd_drop_dev_database() {
  local force="" arg rc=0
  for arg in "$@"; do
    case "$arg" in
      --force) force=1 ;;
      *) die "usage: scripts/postgres.sh drop-dev-database [--force]" ;;
    esac
  done
  # a) a server the user named: never dropped here
  if [[ -n "${AIQ_DATABASE_URL:-}" && "$AIQ_DATABASE_URL" != "$(system_dev_url)" ]]; then
    local host port db="${AIQ_DATABASE_URL#*://}"
    read -r host port < <(parse_url_host_port "$AIQ_DATABASE_URL")
    db="${db%%\?*}"
    if [[ "$db" == */?* ]]; then db="database ${db#*/}"; else db="its database"; fi
    log "AIQ_DATABASE_URL is set ($db on $host:$port): not dropped, as it is yours; its jobs point at the images deleted with .dev, so drop and recreate it yourself (DROP DATABASE, CREATE DATABASE), or unset AIQ_DATABASE_URL to let just dev use its own"
  elif [[ "${AIQ_PG_FORCE_LOCAL:-}" == 1 ]]; then
    log "AIQ_PG_FORCE_LOCAL=1: just dev used a throwaway cluster, not $SYSTEM_HOST:$SYSTEM_PORT; nothing dropped there"
  else
    # b) database aiq on the server on 127.0.0.1:5432
    drop_system_dev_database "$force" || rc=1
  fi
  # c) the throwaway cluster: under .dev it goes with .dev; one in /tmp (root, see local_dir) is deleted
  if [[ -s "$LOCATION_FILE" ]]; then
    local dir
    dir="$(cat "$LOCATION_FILE")"
    if [[ "$dir" == "$DEV_DIR"/* ]]; then
      log "the throwaway cluster in $dir is deleted with $DEV_DIR"
    elif [[ "$dir" == /tmp/aiq-postgres-* && -f "$dir/started-by-aiq" ]]; then
      cmd_stop
      rm -rf -- "$dir"
      log "deleted the throwaway cluster in $dir"
    else
      log "$LOCATION_FILE names $dir, not a throwaway cluster this script made: left alone"
    fi
  fi
  return "$rc"
}

case "${1:-}" in
  ensure) cmd_ensure ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  check) cmd_check ;;
  drop-dev-database) shift; cmd_drop_dev_database "$@" ;;
  *)
    echo "usage: $0 {ensure|stop|status|check|drop-dev-database [--force]}" >&2
    exit 2
    ;;
esac
