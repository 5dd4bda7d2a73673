#!/usr/bin/env bash
# Development and CI infrastructure without Docker: NATS with JetStream, Redis, and FerretDB v1 as
# the MongoDB-wire-compatible server. Whatever already answers at a configured URL is used as is;
# only what is missing is started, in the background, on 127.0.0.1. See docs/INFRASTRUCTURE.md.
set -euo pipefail

NATS_SERVER_VERSION=v2.15.2 # keep in step with the nats image in docker-compose.yml

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
# shellcheck source=scripts/lib/infra-common.sh
source "$SCRIPT_DIR/lib/infra-common.sh"

CACHE_DIR=${TOOLPATH_CACHE_DIR:-${HOME:?set HOME or TOOLPATH_CACHE_DIR}/.cache/toolpath}
BIN_DIR=$CACHE_DIR/bin
DATA_DIR=${TOOLPATH_DATA_DIR:-$REPO_ROOT/.data}
[[ $DATA_DIR == /* ]] || DATA_DIR=$PWD/$DATA_DIR
NATS_URL=${NATS_URL:-nats://127.0.0.1:4222}
REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
MONGO_URL=${MONGO_URL:-mongodb://127.0.0.1:27017}
FERRETDB_HANDLER=${FERRETDB_HANDLER:-sqlite}
FERRETDB_POSTGRESQL_URL=${FERRETDB_POSTGRESQL_URL:-postgres://127.0.0.1:5432/ferretdb}
READY_TIMEOUT=${TOOLPATH_READY_TIMEOUT:-30}
FERRETDB_SRC=$REPO_ROOT/tools/ferretdb
SERVICES=(nats redis ferretdb)

usage() {
  cat <<EOF
Usage: scripts/infra.sh <command> [service...]

Makes NATS (JetStream), Redis and a MongoDB-compatible server (FerretDB v1) available on this
machine without Docker. A service that already answers at its URL is used as is; a missing one
is started in the background on 127.0.0.1, at the port of its URL.

Commands:
  start [svc...]   start whatever does not answer yet (builds/installs binaries on first use)
  stop [svc...]    stop the servers this script started (by pid file); others are left alone
  status [svc...]  one line per service: URL, up/down, started here (pid) or external;
                   exits 1 when one is down
  env              print 'export NATS_URL=... REDIS_URL=... MONGO_URL=...' for the services
                   that answer, e.g.  eval "\$(scripts/infra.sh env)"
  bin <name>       print the path of nats-server, ferretdb or redis-server, building or
                   installing it first when missing
  help             this text

Services: nats, redis, ferretdb.

Settings (environment):
  NATS_URL                 default nats://127.0.0.1:4222 (monitoring on port+4000: 8222)
  NATS_MONITOR_PORT        default: the NATS port + 4000
  REDIS_URL                default redis://127.0.0.1:6379
  MONGO_URL                default mongodb://127.0.0.1:27017
  FERRETDB_HANDLER         sqlite (default) or postgresql
  FERRETDB_POSTGRESQL_URL  for the postgresql handler (default $FERRETDB_POSTGRESQL_URL)
  TOOLPATH_DATA_DIR        data, logs and pid files (default <repo>/.data)
  TOOLPATH_CACHE_DIR       built binaries go to its bin/ (default ~/.cache/toolpath)
  TOOLPATH_READY_TIMEOUT   seconds to wait for a started server (default 30)
EOF
}

svc_url() { case $1 in nats) echo "$NATS_URL" ;; redis) echo "$REDIS_URL" ;; ferretdb) echo "$MONGO_URL" ;; esac; }
svc_var() { case $1 in nats) echo NATS_URL ;; redis) echo REDIS_URL ;; ferretdb) echo MONGO_URL ;; esac; }
svc_prog() { case $1 in nats) echo nats-server ;; redis) echo redis-server ;; ferretdb) echo ferretdb ;; esac; }
svc_kind() { case $1 in nats) echo "a NATS server" ;; redis) echo "a Redis server" ;; ferretdb) echo "a MongoDB-compatible server" ;; esac; }
svc_default_port() { case $1 in nats) echo 4222 ;; redis) echo 6379 ;; ferretdb) echo 27017 ;; esac; }
svc_probe() { case $1 in nats) probe_nats "$2" ;; redis) probe_redis "$2" ;; ferretdb) probe_mongo "$2" ;; esac; }
pid_file() { echo "$DATA_DIR/run/$1.pid"; }
log_file() { echo "$DATA_DIR/logs/$1.log"; }

check_services() {
  local s
  for s in "$@"; do
    [[ " ${SERVICES[*]} " == *" $s "* ]] || die "unknown service '$s' (expected: ${SERVICES[*]})"
  done
}

# ---------------------------------------------------------------------------------------------
# Binaries

ensure_go() { # ensure_go <what-needs-it>
  command -v go >/dev/null 2>&1 && return 0
  if [[ -x /usr/local/go/bin/go ]]; then
    PATH=$PATH:/usr/local/go/bin
    return 0
  fi
  die "Go is not installed (or not on PATH), and $1 is built from the Go module proxy.
  Install Go >= 1.21 from https://go.dev/dl (it fetches the newer toolchain these modules ask
  for by itself; Debian's golang-go is too old), or put a prebuilt $1 at $BIN_DIR/$1."
}

nats_bin_ok() {
  [[ -x $BIN_DIR/nats-server ]] && [[ $("$BIN_DIR/nats-server" --version 2>/dev/null) == *" $NATS_SERVER_VERSION" ]]
}

build_nats() {
  nats_bin_ok && return 0 # built by another run while this one waited for the lock
  ensure_go nats-server
  [[ ! -e $BIN_DIR/nats-server ]] || say "cached nats-server is not $NATS_SERVER_VERSION; rebuilding it"
  say "building nats-server $NATS_SERVER_VERSION with go install (the first build takes a minute or two) ..."
  local t0 tmp
  t0=$(now_ms)
  tmp=$(mktemp -d "$BIN_DIR/.nats-build.XXXXXX")
  if ! (cd / && GOBIN=$tmp go install "github.com/nats-io/nats-server/v2@$NATS_SERVER_VERSION"); then
    rm -rf "$tmp"
    die "go install github.com/nats-io/nats-server/v2@$NATS_SERVER_VERSION failed (output above)"
  fi
  mv -f "$tmp/nats-server" "$BIN_DIR/nats-server"
  rm -rf "$tmp"
  say "built $BIN_DIR/nats-server in $(elapsed "$t0")"
}

ensure_nats_bin() {
  nats_bin_ok && return 0
  mkdir -p "$BIN_DIR"
  with_lock "$BIN_DIR/.build.lock" 1800 build_nats
}

ferretdb_wanted_version() {
  awk '$1 == "require" && $2 == "github.com/FerretDB/FerretDB" { print $3; exit }
       $1 == "github.com/FerretDB/FerretDB" { print $2; exit }' "$FERRETDB_SRC/go.mod"
}

# The cached binary is rebuilt when the wrapper's sources change (a stamp beside it holds their hash).
ferretdb_sources_sum() { cat "$FERRETDB_SRC/main.go" "$FERRETDB_SRC/go.mod" "$FERRETDB_SRC/go.sum" | sha256sum | cut -d' ' -f1; }

ferretdb_bin_ok() {
  local bin=$BIN_DIR/ferretdb stamp=$BIN_DIR/ferretdb.sources want have
  [[ -x $bin ]] || return 1
  [[ -f $FERRETDB_SRC/go.mod ]] || return 0 # nothing to compare with: trust the cache
  want=$(ferretdb_sources_sum)
  if [[ -f $stamp ]]; then
    [[ $(<"$stamp") == "$want" ]]
    return
  fi
  # Built without a stamp (by hand): keep it if it embeds the FerretDB version go.mod asks for.
  if command -v go >/dev/null 2>&1; then
    have=$(go version -m "$bin" 2>/dev/null | awk '$1 == "dep" && $2 == "github.com/FerretDB/FerretDB" { print $3 }')
    [[ $have == "$(ferretdb_wanted_version)" ]] || return 1
  fi
  echo "$want" >"$stamp"
}

build_ferretdb() {
  ferretdb_bin_ok && return 0
  [[ -f $FERRETDB_SRC/go.mod ]] || die "$FERRETDB_SRC (our FerretDB wrapper) is missing; cannot build ferretdb"
  ensure_go ferretdb
  [[ ! -e $BIN_DIR/ferretdb ]] || say "cached ferretdb was built from other sources than tools/ferretdb; rebuilding it"
  say "building FerretDB $(ferretdb_wanted_version) from tools/ferretdb with go build (the first build downloads modules and takes a few minutes) ..."
  local t0 tmp=$BIN_DIR/.ferretdb.build.$$
  t0=$(now_ms)
  if ! (cd "$FERRETDB_SRC" && GOWORK=off go build -o "$tmp" .); then
    rm -f "$tmp"
    die "go build in tools/ferretdb failed (output above)"
  fi
  mv -f "$tmp" "$BIN_DIR/ferretdb"
  ferretdb_sources_sum >"$BIN_DIR/ferretdb.sources"
  say "built $BIN_DIR/ferretdb in $(elapsed "$t0")"
}

ensure_ferretdb_bin() {
  ferretdb_bin_ok && return 0
  mkdir -p "$BIN_DIR"
  with_lock "$BIN_DIR/.build.lock" 1800 build_ferretdb
}

# The Debian package may start its own service; if it did and that one is not at our URL, it
# would only hold a port and memory, so it is stopped and disabled (ours runs with our flags).
stop_packaged_redis() {
  local pid
  pid=$(cat /run/redis/redis-server.pid 2>/dev/null || true)
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 0
  if probe_redis "$REDIS_URL"; then
    say "the redis-server package started its system service and it answers at $REDIS_URL; it will be used as is"
    return 0
  fi
  say "the redis-server package started its system service (pid $pid); stopping and disabling it"
  if [[ -d /run/systemd/system ]]; then
    systemctl disable --now redis-server >&2 || terminate "$pid"
  else
    service redis-server stop >&2 || terminate "$pid"
    update-rc.d redis-server disable >/dev/null 2>&1 || true
  fi
}

install_redis() {
  command -v redis-server >/dev/null 2>&1 && return 0
  local hint="install Redis >= 6.2 yourself (Debian/Ubuntu: apt-get install redis-server) or point REDIS_URL at a running one"
  [[ $(id -u) -eq 0 ]] || die "redis-server is not installed and this is not root; $hint"
  command -v apt-get >/dev/null 2>&1 || die "redis-server is not installed and there is no apt-get here; $hint"
  say "installing redis-server with apt-get ..."
  local t0 policy=/usr/sbin/policy-rc.d added_policy='' rc=0
  t0=$(now_ms)
  # Keep the package from starting a system service on install (exit 101 = "not allowed").
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    added_policy=1
  fi
  {
    DEBIAN_FRONTEND=noninteractive apt-get update -q &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends redis-server
  } >&2 || rc=$?
  [[ -z $added_policy ]] || rm -f "$policy"
  ((rc == 0)) || die "apt-get install redis-server failed (exit $rc); $hint"
  stop_packaged_redis
  say "installed $(redis-server --version 2>/dev/null | cut -d' ' -f1-3) in $(elapsed "$t0")"
}

ensure_redis_bin() {
  command -v redis-server >/dev/null 2>&1 && return 0
  with_lock "$CACHE_DIR/.apt.lock" 900 install_redis
  command -v redis-server >/dev/null 2>&1 || die "redis-server is still not on PATH after installing it"
}

cmd_bin() {
  [[ $# -eq 1 ]] || die "usage: scripts/infra.sh bin <nats-server|ferretdb|redis-server>"
  case $1 in
    nats-server) ensure_nats_bin && echo "$BIN_DIR/nats-server" ;;
    ferretdb) ensure_ferretdb_bin && echo "$BIN_DIR/ferretdb" ;;
    redis-server) ensure_redis_bin && command -v redis-server ;;
    *) die "unknown binary '$1' (expected nats-server, ferretdb or redis-server)" ;;
  esac
}

# ---------------------------------------------------------------------------------------------
# Services

nats_monitor_port() { # <nats-port>
  echo "${NATS_MONITOR_PORT:-$(($1 + 4000))}"
}

ready_check() { # ready_check <svc> <bind> <port>
  case $1 in
    nats) http_ok "$2" "$(nats_monitor_port "$3")" "/healthz?js-enabled-only=true" ;;
    redis)
      if command -v redis-cli >/dev/null 2>&1; then
        [[ $(timeout 3 redis-cli -h "$2" -p "$3" ping 2>/dev/null) == PONG ]]
      else
        probe_redis "redis://$2:$3"
      fi
      ;;
    ferretdb) probe_mongo "mongodb://$2:$3/" ;;
  esac
}

# Where a server listens, as recorded on line 2 of its pid file: "<bind> <port> <monitor-port|->".
listen_spec() { # listen_spec <svc> <bind> <port>
  if [[ $1 == nats ]]; then echo "$2 $3 $(nats_monitor_port "$3")"; else echo "$2 $3 -"; fi
}

launch() { # launch <svc> <bind> <port>: starts the server, prints nothing
  local svc=$1 bind=$2 port=$3 pidfile log
  pidfile=$(pid_file "$svc")
  log=$(log_file "$svc")
  case $svc in
    nats)
      mkdir -p "$DATA_DIR/nats"
      spawn "$pidfile" "$log" "$BIN_DIR/nats-server" -js -a "$bind" -p "$port" \
        -m "$(nats_monitor_port "$port")" -sd "$DATA_DIR/nats"
      ;;
    redis)
      mkdir -p "$DATA_DIR/redis"
      spawn "$pidfile" "$log" "$(command -v redis-server)" --bind "$bind" --port "$port" \
        --dir "$DATA_DIR/redis" --appendonly yes --appendfsync everysec \
        --maxmemory-policy noeviction --daemonize no
      ;;
    ferretdb)
      local args=(--listen-addr "$bind:$port" --handler "$FERRETDB_HANDLER" --log-level warn)
      if [[ $FERRETDB_HANDLER == sqlite ]]; then
        mkdir -p "$DATA_DIR/ferretdb"
        args+=(--sqlite-url "file:$DATA_DIR/ferretdb/")
      else
        args+=(--postgresql-url "$FERRETDB_POSTGRESQL_URL")
      fi
      spawn "$pidfile" "$log" "$BIN_DIR/ferretdb" "${args[@]}"
      ;;
  esac
}

# Waits for a server this script started; on failure shows its log and exits non-zero.
wait_ready() { # wait_ready <svc> <pid> <bind> <port> <stop-on-failure: yes|no>
  local svc=$1 pid=$2 bind=$3 port=$4 stop_on_failure=$5 deadline log why
  log=$(log_file "$svc")
  deadline=$(($(now_ms) + READY_TIMEOUT * 1000))
  while :; do
    ready_check "$svc" "$bind" "$port" && return 0
    if ! alive "$pid"; then
      why="$(svc_prog "$svc") exited during start-up"
      break
    fi
    if (($(now_ms) >= deadline)); then
      why="$(svc_prog "$svc") (pid $pid) is not ready after ${READY_TIMEOUT}s"
      break
    fi
    sleep 0.2
  done
  say "$svc: $why"
  show_log_tail "$log"
  if [[ $stop_on_failure == yes ]] && alive "$pid"; then
    terminate "$pid"
  fi
  [[ $stop_on_failure != yes ]] || rm -f "$(pid_file "$svc")"
  exit 1
}

start_service() {
  local svc=$1 url prog pidfile pid rc=0 host port bind t0
  url=$(svc_url "$svc")
  prog=$(svc_prog "$svc")
  pidfile=$(pid_file "$svc")
  read -r host port <<<"$(url_host_port "$url" "$(svc_default_port "$svc")")"
  bind=$(bind_address "$host")

  if pid=$(pid_of "$pidfile" "$prog"); then
    local recorded
    recorded=$(sed -n 2p "$pidfile")
    [[ $recorded == "$(listen_spec "$svc" "$bind" "$port")" ]] ||
      die "$svc: this script already runs $prog (pid $pid) on '$recorded', not for $url; stop it first (scripts/infra.sh stop $svc) or set $(svc_var "$svc") back"
    wait_ready "$svc" "$pid" "$bind" "$port" no
    say "$svc: already running at $url (pid $pid, started by this script)"
    return 0
  fi
  rm -f "$pidfile"

  svc_probe "$svc" "$url" || rc=$?
  case $rc in
    0)
      say "$svc: $url answers; using it (external, not started by this script)"
      if [[ $svc == nats && $PROBE_DETAIL != *'"jetstream":true'* ]]; then
        say "warning: the NATS server at $url does not announce JetStream; the apps need it (nats-server -js)"
      fi
      return 0
      ;;
    2) die "$svc: something listens at $host:$port but does not answer as $(svc_kind "$svc"); free the port or set $(svc_var "$svc")" ;;
  esac
  is_loopback "$host" ||
    die "$svc: nothing answers at $url, and '$host' is not a loopback address of this machine, so it cannot be started here"

  case $svc in
    nats) ensure_nats_bin ;;
    redis) ensure_redis_bin ;;
    ferretdb)
      [[ $FERRETDB_HANDLER == sqlite || $FERRETDB_HANDLER == postgresql ]] ||
        die "FERRETDB_HANDLER must be sqlite or postgresql, not '$FERRETDB_HANDLER'"
      ensure_ferretdb_bin
      ;;
  esac

  t0=$(now_ms)
  launch "$svc" "$bind" "$port"
  listen_spec "$svc" "$bind" "$port" >>"$pidfile"
  pid=$(head -n 1 "$pidfile")
  wait_ready "$svc" "$pid" "$bind" "$port" yes
  local extra=''
  [[ $svc != nats ]] || extra=", monitoring http://$bind:$(nats_monitor_port "$port")"
  [[ $svc != ferretdb ]] || extra=", $FERRETDB_HANDLER backend"
  say "$svc: started $prog at $url in $(elapsed "$t0") (pid $pid$extra; log $(log_file "$svc"))"
}

cmd_start() {
  local svc
  mkdir -p "$DATA_DIR/run" "$DATA_DIR/logs"
  for svc in "$@"; do start_service "$svc"; done
}

cmd_stop() {
  local svc pidfile pid i
  for ((i = ${#@}; i > 0; i--)); do # reverse order: the stores last
    svc=${!i}
    pidfile=$(pid_file "$svc")
    if pid=$(pid_of "$pidfile" "$(svc_prog "$svc")"); then
      terminate "$pid"
      rm -f "$pidfile"
      say "$svc: stopped (pid $pid)"
    elif [[ -f $pidfile ]]; then
      rm -f "$pidfile"
      say "$svc: was not running (removed a stale pid file)"
    elif svc_probe "$svc" "$(svc_url "$svc")"; then
      say "$svc: $(svc_url "$svc") was not started by this script; left running"
    else
      say "$svc: not running"
    fi
  done
}

cmd_status() {
  local svc url pid state who all_up=0
  for svc in "$@"; do
    url=$(svc_url "$svc")
    if svc_probe "$svc" "$url"; then state=up; else state=down all_up=1; fi
    if pid=$(pid_of "$(pid_file "$svc")" "$(svc_prog "$svc")"); then
      who="started by infra.sh (pid $pid)"
      local host port
      read -r host port <<<"$(url_host_port "$url" "$(svc_default_port "$svc")")"
      [[ $(sed -n 2p "$(pid_file "$svc")") == "$(listen_spec "$svc" "$(bind_address "$host")" "$port")" ]] ||
        who="$who, listening on $(sed -n 2p "$(pid_file "$svc")" | cut -d' ' -f1-2), not this URL"
    elif [[ $state == up ]]; then
      who=external
    else
      who=''
    fi
    printf '%-9s %-34s %-5s %s\n' "$svc" "$url" "$state" "$who"
  done
  return "$all_up"
}

cmd_env() {
  local svc missing=0
  for svc in "${SERVICES[@]}"; do
    if svc_probe "$svc" "$(svc_url "$svc")"; then
      printf 'export %s=%q\n' "$(svc_var "$svc")" "$(svc_url "$svc")"
    else
      say "$svc: nothing answers at $(svc_url "$svc") (run: scripts/infra.sh start)"
      missing=1
    fi
  done
  return "$missing"
}

main() {
  local cmd=${1:-}
  [[ $# -eq 0 ]] || shift
  case $cmd in
    -h | --help | help | '') usage ;;
    start | stop | status)
      [[ $# -gt 0 ]] || set -- "${SERVICES[@]}"
      check_services "$@"
      url_host_port "$NATS_URL" 4222 >/dev/null
      url_host_port "$REDIS_URL" 6379 >/dev/null
      url_host_port "$MONGO_URL" 27017 >/dev/null
      case $cmd in
        start) with_lock "$DATA_DIR/run/infra.lock" 1800 cmd_start "$@" ;;
        stop) with_lock "$DATA_DIR/run/infra.lock" 60 cmd_stop "$@" ;;
        status) cmd_status "$@" ;;
      esac
      ;;
    env) cmd_env ;;
    bin) cmd_bin "$@" ;;
    *)
      usage >&2
      die "unknown command '$cmd'"
      ;;
  esac
}

main "$@"
