#!/usr/bin/env bash
# Development and CI infrastructure without Docker: NATS with JetStream, Redis, and FerretDB v1 as
# the MongoDB-wire-compatible server (on PostgreSQL, or on SQLite files). Whatever already answers
# at a configured URL is used as is; only what is missing is started, in the background, on
# 127.0.0.1. See docs/INFRASTRUCTURE.md.
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
# postgresql: 5-100x faster reads than sqlite here (docs/INFRASTRUCTURE.md has the measurements).
FERRETDB_HANDLER=${FERRETDB_HANDLER:-postgresql}
# Not 5432, so that a PostgreSQL of the system (or of another project) is never touched.
FERRETDB_POSTGRESQL_URL=${FERRETDB_POSTGRESQL_URL:-postgres://toolpath@127.0.0.1:5433/ferretdb}
# on: what FerretDB acknowledges is on disk. off is faster but loses the last acknowledged
# commits on a crash; only for measurements (docs/INFRASTRUCTURE.md, "Durability").
PG_SYNCHRONOUS_COMMIT=${FERRETDB_POSTGRESQL_SYNCHRONOUS_COMMIT:-on}
READY_TIMEOUT=${TOOLPATH_READY_TIMEOUT:-30}
FERRETDB_SRC=$REPO_ROOT/tools/ferretdb
ALL_SERVICES=(nats redis postgres ferretdb) # start order; stop goes backwards
if [[ $FERRETDB_HANDLER == postgresql ]]; then SERVICES=(nats redis postgres ferretdb); else SERVICES=(nats redis ferretdb); fi

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
  services         print the services of this configuration (with FERRETDB_HANDLER=postgresql:
                   nats redis postgres ferretdb)
  down             print those of them that nothing answers for now (what 'start' would
                   start), e.g. to stop afterwards only what a run started
  bin <name>       print the path of nats-server, ferretdb, redis-server or postgres, building
                   or installing it first when missing
  help             this text

Services: nats, redis, ferretdb, and postgres (the store of FerretDB's postgresql handler; only
with FERRETDB_HANDLER=postgresql, where 'start ferretdb' starts it first).

Settings (environment):
  NATS_URL                 default nats://127.0.0.1:4222 (monitoring on port+4000: 8222)
  NATS_MONITOR_PORT        default: the NATS port + 4000
  REDIS_URL                default redis://127.0.0.1:6379
  MONGO_URL                default mongodb://127.0.0.1:27017
  FERRETDB_HANDLER         postgresql (default) or sqlite (no PostgreSQL needed; slower)
  FERRETDB_POSTGRESQL_URL  the PostgreSQL that FerretDB uses with the postgresql handler (default
                           $FERRETDB_POSTGRESQL_URL); started here like the others
                           (installs Debian's postgresql package, as root, when missing)
  FERRETDB_POSTGRESQL_SYNCHRONOUS_COMMIT
                           on (default: an acknowledged write is on disk) or off (faster; a
                           crash loses the last acknowledged writes); applies when PostgreSQL
                           is started here
  TOOLPATH_DATA_DIR        data, logs and pid files (default <repo>/.data)
  TOOLPATH_CACHE_DIR       built binaries go to its bin/ (default ~/.cache/toolpath)
  TOOLPATH_READY_TIMEOUT   seconds to wait for a started server (default 30)
EOF
}

svc_url() { case $1 in nats) echo "$NATS_URL" ;; redis) echo "$REDIS_URL" ;; ferretdb) echo "$MONGO_URL" ;; postgres) echo "$FERRETDB_POSTGRESQL_URL" ;; esac; }
svc_var() { case $1 in nats) echo NATS_URL ;; redis) echo REDIS_URL ;; ferretdb) echo MONGO_URL ;; postgres) echo FERRETDB_POSTGRESQL_URL ;; esac; }
svc_prog() { case $1 in nats) echo nats-server ;; redis) echo redis-server ;; ferretdb) echo ferretdb ;; postgres) echo postgres ;; esac; }
svc_kind() { case $1 in nats) echo "a NATS server" ;; redis) echo "a Redis server" ;; ferretdb) echo "a MongoDB-compatible server" ;; postgres) echo "a PostgreSQL server" ;; esac; }
svc_default_port() { case $1 in nats) echo 4222 ;; redis) echo 6379 ;; ferretdb) echo 27017 ;; postgres) echo 5432 ;; esac; }
svc_probe() { case $1 in nats) probe_nats "$2" ;; redis) probe_redis "$2" ;; ferretdb) probe_mongo "$2" ;; postgres) probe_postgres "$2" ;; esac; }
pid_file() { echo "$DATA_DIR/run/$1.pid"; }
log_file() { echo "$DATA_DIR/logs/$1.log"; }

check_services() {
  local s
  for s in "$@"; do
    [[ " ${ALL_SERVICES[*]} " == *" $s "* ]] || die "unknown service '$s' (expected: ${ALL_SERVICES[*]})"
  done
}

# The services named, in start order (or in stop order with 'reverse'), each once.
ordered() { # ordered <forward|reverse> <svc...>
  local dir=$1 s out=()
  shift
  for s in "${ALL_SERVICES[@]}"; do
    [[ " $* " != *" $s "* ]] || out+=("$s")
  done
  if [[ $dir == reverse ]]; then
    local i
    for ((i = ${#out[@]} - 1; i >= 0; i--)); do echo "${out[i]}"; done
  else
    printf '%s\n' "${out[@]}"
  fi
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

# apt-get install, non-interactive, with a temporary policy-rc.d that keeps the package from
# starting a system service (exit 101 = "not allowed"). The package lists are refreshed first
# unless they already offer the package; then only when the install fails (stale lists).
apt_install() { # apt_install <package> <hint-on-failure>
  local pkg=$1 hint=$2 policy=/usr/sbin/policy-rc.d added_policy='' rc=0
  [[ $(id -u) -eq 0 ]] || die "$pkg is not installed and this is not root; $hint"
  command -v apt-get >/dev/null 2>&1 || die "$pkg is not installed and there is no apt-get here; $hint"
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    added_policy=1
  fi
  local apt=(env DEBIAN_FRONTEND=noninteractive apt-get -q -y -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
  {
    if [[ $(apt-cache policy "$pkg" 2>/dev/null | awk '$1 == "Candidate:" { print $2 }') =~ ^(|\(none\))$ ]]; then
      "${apt[@]}" update && "${apt[@]}" install --no-install-recommends "$pkg"
    else
      "${apt[@]}" install --no-install-recommends "$pkg" ||
        { "${apt[@]}" update && "${apt[@]}" install --no-install-recommends "$pkg"; }
    fi
  } >&2 || rc=$?
  [[ -z $added_policy ]] || rm -f "$policy"
  ((rc == 0)) || die "apt-get install $pkg failed (exit $rc); $hint"
}

install_redis() {
  command -v redis-server >/dev/null 2>&1 && return 0
  say "installing redis-server with apt-get ..."
  local t0
  t0=$(now_ms)
  apt_install redis-server "install Redis >= 6.2 yourself (Debian/Ubuntu: apt-get install redis-server) or point REDIS_URL at a running one"
  stop_packaged_redis
  say "installed $(redis-server --version 2>/dev/null | cut -d' ' -f1-3) in $(elapsed "$t0")"
}

ensure_redis_bin() {
  command -v redis-server >/dev/null 2>&1 && return 0
  with_lock "$CACHE_DIR/.apt.lock" 900 install_redis
  command -v redis-server >/dev/null 2>&1 || die "redis-server is still not on PATH after installing it"
}

# PostgreSQL's programs (initdb, postgres, pg_isready, psql): Debian keeps them in
# /usr/lib/postgresql/<major>/bin, off PATH. With a cluster already made, the major version must
# be the one it was made with.
pg_bindir() { # pg_bindir [major]
  local d
  if [[ -n ${1:-} ]]; then
    d=/usr/lib/postgresql/$1/bin
    [[ -x $d/postgres ]] && { echo "$d"; return 0; }
  else
    d=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)
    [[ -n $d && -x $d/initdb && -x $d/postgres ]] && { echo "$d"; return 0; }
  fi
  if command -v pg_config >/dev/null 2>&1; then
    d=$(pg_config --bindir 2>/dev/null || true)
    [[ -n $d && -x $d/initdb && -x $d/postgres ]] &&
      [[ -z ${1:-} || $("$d/postgres" --version 2>/dev/null) =~ \ $1(\.|$) ]] && { echo "$d"; return 0; }
  fi
  d=$(command -v initdb 2>/dev/null || true)
  d=${d%/*}
  [[ -n $d && -x $d/postgres ]] && [[ -z ${1:-} || $("$d/postgres" --version 2>/dev/null) =~ \ $1(\.|$) ]] &&
    { echo "$d"; return 0; }
  return 1
}

# Debian's postgresql package makes a cluster "main" on port 5432 and starts it. Neither is
# wanted: a drop-in (removed again afterwards) says create_main_cluster = false, and apt_install's
# policy-rc.d keeps any service from starting. Should a cluster still come up, it is stopped.
install_postgres() {
  pg_bindir >/dev/null && return 0
  say "installing postgresql with apt-get (no cluster of its own, nothing started) ..."
  local t0 dropin_dir=/etc/postgresql-common/createcluster.d dropin added_dir='' before='' c
  dropin=$dropin_dir/zz-toolpath-infra-no-main-cluster.conf
  t0=$(now_ms)
  [[ $(id -u) -ne 0 ]] || {
    [[ -d $dropin_dir ]] || { mkdir -p "$dropin_dir" && added_dir=1; }
    printf '# temporary, written by toolpath scripts/infra.sh during apt-get install\ncreate_main_cluster = false\n' >"$dropin"
  }
  ! command -v pg_lsclusters >/dev/null 2>&1 || before=$(pg_lsclusters -h 2>/dev/null | awk '{ print $1 "/" $2 }')
  (apt_install postgresql "install PostgreSQL >= 13 yourself (Debian/Ubuntu: apt-get install postgresql), or point FERRETDB_POSTGRESQL_URL at a running one, or use FERRETDB_HANDLER=sqlite") || {
    rm -f "$dropin"
    [[ -z $added_dir ]] || rmdir "$dropin_dir" 2>/dev/null || true
    exit 1
  }
  rm -f "$dropin"
  [[ -z $added_dir ]] || rmdir "$dropin_dir" 2>/dev/null || true
  if command -v pg_lsclusters >/dev/null 2>&1; then
    while read -r c; do
      [[ -n $c && " $before " != *" $c "* ]] || continue
      say "the postgresql package made and started cluster $c; stopping it (it is not used)"
      pg_ctlcluster "${c%/*}" "${c#*/}" stop >&2 || true
    done < <(pg_lsclusters -h 2>/dev/null | awk '$4 == "online" { print $1 "/" $2 }')
  fi
  pg_bindir >/dev/null || die "postgresql is installed but initdb/postgres are not found (looked in /usr/lib/postgresql/*/bin, pg_config, PATH)"
  say "installed $("$(pg_bindir)/postgres" --version) in $(elapsed "$t0")"
}

ensure_postgres_bin() {
  pg_bindir >/dev/null && return 0
  with_lock "$CACHE_DIR/.apt.lock" 900 install_postgres
}

cmd_bin() {
  [[ $# -eq 1 ]] || die "usage: scripts/infra.sh bin <nats-server|ferretdb|redis-server|postgres>"
  case $1 in
    nats-server) ensure_nats_bin && echo "$BIN_DIR/nats-server" ;;
    ferretdb) ensure_ferretdb_bin && echo "$BIN_DIR/ferretdb" ;;
    redis-server) ensure_redis_bin && command -v redis-server ;;
    postgres) ensure_postgres_bin && echo "$(pg_bindir)/postgres" ;;
    *) die "unknown binary '$1' (expected nats-server, ferretdb, redis-server or postgres)" ;;
  esac
}

# ---------------------------------------------------------------------------------------------
# PostgreSQL cluster of our own (for FerretDB's postgresql handler)

# PostgreSQL refuses to run as root: as root its programs run as the 'postgres' system user
# (made by the package), otherwise as whoever runs this script.
pg_user() { if [[ $(id -u) -eq 0 ]]; then echo postgres; else id -un; fi; }
as_pg() { # as_pg <cmd...>: in /, so that an unreadable working directory does not matter
  if [[ $(id -u) -eq 0 ]]; then
    (cd / && exec setpriv --reuid=postgres --regid=postgres --init-groups -- "$@")
  else
    (cd / && exec "$@")
  fi
}

# The cluster lives in <data>/postgres when the postgres user can reach that folder; when a parent
# is closed to it (a data dir under /root, say) it lives in the postgres user's home instead, one
# per data dir, and <data>/postgres is a symlink to it.
pg_data_dir() {
  local link=$DATA_DIR/postgres home
  if [[ -L $link ]]; then
    readlink -f "$link"
  elif [[ -e $link ]] || as_pg test -x "$DATA_DIR" 2>/dev/null; then
    echo "$link"
  else
    home=$(getent passwd "$(pg_user)" | cut -d: -f6)
    [[ -n $home && -d $home ]] || home=/var/tmp
    echo "$home/toolpath-$(printf %s "$DATA_DIR" | sha256sum | cut -c1-12)"
  fi
}

# The role and database of FERRETDB_POSTGRESQL_URL ("user db"): libpq's defaults when it leaves
# them out (the user running FerretDB; a database named like the user).
pg_url_role_db() {
  local user db
  read -r user db <<<"$(url_user_db "$FERRETDB_POSTGRESQL_URL")"
  [[ $user != - ]] || user=$(id -un)
  [[ $db != - ]] || db=$user
  [[ $user =~ ^[A-Za-z_][A-Za-z0-9_]*$ && $db =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] ||
    die "FERRETDB_POSTGRESQL_URL: user '$user' and database '$db' must be plain identifiers ([A-Za-z_][A-Za-z0-9_]*) for a cluster made here"
  echo "$user $db"
}

# initdb (once) into a temporary folder, renamed when complete, so a failed attempt leaves nothing
# that looks like a cluster. Authentication: no password, TCP from 127.0.0.1 only (no Unix socket).
pg_init_cluster() { # pg_init_cluster <dir>
  local dir=$1 tmp bindir
  [[ -f $dir/PG_VERSION ]] && return 0
  [[ ! -e $dir ]] || [[ -z $(ls -A "$dir" 2>/dev/null) ]] ||
    die "postgres: $dir exists but holds no PostgreSQL cluster; move it away or delete it"
  bindir=$(pg_bindir)
  tmp=$dir.initdb
  rm -rf "$tmp"
  mkdir -p "$(dirname "$dir")"
  mkdir -m 700 "$tmp"
  [[ $(id -u) -ne 0 ]] || chown postgres:postgres "$tmp"
  say "postgres: creating a cluster in $dir ($("$bindir/postgres" --version | awk '{ print $3 }'))"
  if ! as_pg "$bindir/initdb" -D "$tmp" -U postgres --auth=trust --encoding=UTF8 --locale=C >>"$(log_file postgres)" 2>&1; then
    show_log_tail "$(log_file postgres)"
    rm -rf "$tmp"
    die "postgres: initdb failed"
  fi
  printf '%s\n' '# Written by scripts/infra.sh: a development/CI cluster. TCP from 127.0.0.1 only, no password.' \
    'host all all 127.0.0.1/32 trust' >"$tmp/pg_hba.conf"
  [[ $(id -u) -ne 0 ]] || chown postgres:postgres "$tmp/pg_hba.conf"
  rmdir "$dir" 2>/dev/null || true
  mv "$tmp" "$dir"
}

pg_psql() { # pg_psql <bind> <port> <sql>: as the superuser, prints the rows (unaligned)
  PGCONNECT_TIMEOUT=5 "$(pg_bindir "$(cat "$(pg_data_dir)/PG_VERSION")")/psql" -X -q -At -v ON_ERROR_STOP=1 \
    -h "$1" -p "$2" -U postgres -d postgres -c "$3"
}

# After each start of our cluster: the URL's role (may log in) and database (owned by the role).
pg_ensure_role_db() { # pg_ensure_role_db <bind> <port>
  local role db have
  read -r role db <<<"$(pg_url_role_db)"
  have=$(pg_psql "$1" "$2" "SELECT (SELECT count(*) FROM pg_roles WHERE rolname = '$role') || ' ' || (SELECT count(*) FROM pg_database WHERE datname = '$db')") ||
    die "postgres: cannot query the new cluster (psql failed; see above)"
  if [[ ${have% *} == 0 ]]; then
    pg_psql "$1" "$2" "CREATE ROLE \"$role\" LOGIN" >/dev/null || die "postgres: CREATE ROLE $role failed"
    say "postgres: created role $role"
  fi
  if [[ ${have#* } == 0 ]]; then
    pg_psql "$1" "$2" "CREATE DATABASE \"$db\" OWNER \"$role\"" >/dev/null || die "postgres: CREATE DATABASE $db failed"
    say "postgres: created database $db (owner $role)"
  fi
}

# The backend of a FerretDB this script started, from its command line.
ferretdb_handler_of() { # ferretdb_handler_of <pid>
  tr '\0' '\n' <"/proc/$1/cmdline" 2>/dev/null | awk 'prev == "--handler" { print; exit } { prev = $0 }'
}

# The synchronous_commit a PostgreSQL this script started runs with, from its command line.
postgres_synchronous_commit_of() { # postgres_synchronous_commit_of <pid>
  tr '\0' '\n' <"/proc/$1/cmdline" 2>/dev/null | awk '/^synchronous_commit=/ { sub(/^synchronous_commit=/, ""); print; exit }'
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
    postgres) "$(pg_bindir "$(cat "$(pg_data_dir)/PG_VERSION")")/pg_isready" -q -t 2 -h "$2" -p "$3" -U postgres -d postgres >/dev/null 2>&1 ;;
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
    postgres)
      # synchronous_commit=on (default): a commit is acknowledged once its WAL is flushed, so
      # what FerretDB acknowledged survives a crash. With off, a kill -9 lost acknowledged
      # documents (docs/INFRASTRUCTURE.md, "Durability").
      local dir major as=()
      dir=$(pg_data_dir)
      major=$(cat "$dir/PG_VERSION")
      [[ $(id -u) -ne 0 ]] || as=(setpriv --reuid=postgres --regid=postgres --init-groups --)
      (cd / && spawn "$pidfile" "$log" "${as[@]}" "$(pg_bindir "$major")/postgres" -D "$dir" \
        -c listen_addresses="$bind" -c port="$port" -c unix_socket_directories= \
        -c synchronous_commit="$PG_SYNCHRONOUS_COMMIT" -c logging_collector=off)
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
    local running_handler
    [[ $svc != ferretdb ]] || running_handler=$(ferretdb_handler_of "$pid")
    if [[ $svc == ferretdb && -n $running_handler && $running_handler != "$FERRETDB_HANDLER" ]]; then
      say "warning: ferretdb (pid $pid, started by this script) runs the $running_handler backend, not $FERRETDB_HANDLER; to switch: scripts/infra.sh stop ferretdb && scripts/infra.sh start"
    fi
    local running_sc
    [[ $svc != postgres ]] || running_sc=$(postgres_synchronous_commit_of "$pid")
    if [[ $svc == postgres && -n $running_sc && $running_sc != "$PG_SYNCHRONOUS_COMMIT" ]]; then
      say "warning: postgres (pid $pid, started by this script) runs with synchronous_commit=$running_sc, not $PG_SYNCHRONOUS_COMMIT; it applies at the next start: scripts/infra.sh stop && scripts/infra.sh start"
    fi
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
    postgres)
      pg_url_role_db >/dev/null
      ensure_postgres_bin
      local pgdir
      pgdir=$(pg_data_dir)
      if [[ $pgdir != "$DATA_DIR/postgres" && ! -L $DATA_DIR/postgres ]]; then
        say "postgres: the postgres user cannot reach $DATA_DIR; the cluster goes to $pgdir ($DATA_DIR/postgres links to it)"
        mkdir -p "$(dirname "$pgdir")"
        ln -s "$pgdir" "$DATA_DIR/postgres"
      fi
      pg_init_cluster "$pgdir"
      pg_bindir "$(cat "$pgdir/PG_VERSION")" >/dev/null ||
        die "postgres: the cluster in $pgdir is PostgreSQL $(cat "$pgdir/PG_VERSION"), whose programs are not installed; install them, or stop and delete $pgdir to start afresh"
      ;;
  esac

  t0=$(now_ms)
  launch "$svc" "$bind" "$port"
  listen_spec "$svc" "$bind" "$port" >>"$pidfile"
  pid=$(head -n 1 "$pidfile")
  wait_ready "$svc" "$pid" "$bind" "$port" yes
  [[ $svc != postgres ]] || pg_ensure_role_db "$bind" "$port"
  local extra=''
  [[ $svc != nats ]] || extra=", monitoring http://$bind:$(nats_monitor_port "$port")"
  [[ $svc != ferretdb ]] || extra=", $FERRETDB_HANDLER backend"
  [[ $svc != postgres ]] || extra=", data $(pg_data_dir)"
  say "$svc: started $prog at $url in $(elapsed "$t0") (pid $pid$extra; log $(log_file "$svc"))"
}

# A MONGO_URL that answers without being ours: FerretDB is not started, so neither is its store.
mongo_is_external() {
  ! pid_of "$(pid_file ferretdb)" ferretdb >/dev/null && probe_mongo "$MONGO_URL"
}

cmd_start() { # cmd_start <implicit-postgres: yes|no> <svc...>
  local implicit_pg=$1 svc
  shift
  mkdir -p "$DATA_DIR/run" "$DATA_DIR/logs"
  for svc in $(ordered forward "$@"); do
    if [[ $svc == postgres && $implicit_pg == yes ]] && mongo_is_external; then
      say "postgres: not needed ($MONGO_URL answers and is not FerretDB started here)"
      continue
    fi
    start_service "$svc"
  done
}

cmd_stop() {
  local svc pidfile pid
  for svc in $(ordered reverse "$@"); do # the stores last
    pidfile=$(pid_file "$svc")
    if pid=$(pid_of "$pidfile" "$(svc_prog "$svc")"); then
      # PostgreSQL: SIGINT is its "fast" shutdown (SIGTERM would wait for every client to leave).
      if [[ $svc == postgres ]]; then terminate "$pid" INT 30; else terminate "$pid"; fi
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
  for svc in $(ordered forward "$@"); do
    url=$(svc_url "$svc")
    if svc_probe "$svc" "$url"; then state=up; else state=down; fi
    if pid=$(pid_of "$(pid_file "$svc")" "$(svc_prog "$svc")"); then
      who="started by infra.sh (pid $pid)"
      [[ $svc != ferretdb ]] || who="started by infra.sh (pid $pid, $(ferretdb_handler_of "$pid") backend)"
      local host port
      read -r host port <<<"$(url_host_port "$url" "$(svc_default_port "$svc")")"
      [[ $(sed -n 2p "$(pid_file "$svc")") == "$(listen_spec "$svc" "$(bind_address "$host")" "$port")" ]] ||
        who="$who, listening on $(sed -n 2p "$(pid_file "$svc")" | cut -d' ' -f1-2), not this URL"
    elif [[ $state == up ]]; then
      who=external
    elif [[ $svc == postgres ]] && mongo_is_external; then
      who="not needed ($(svc_var ferretdb) is not a FerretDB started here)"
      state=-
    else
      who=''
    fi
    [[ $state != down ]] || all_up=1
    printf '%-9s %-44s %-5s %s\n' "$svc" "$url" "$state" "$who"
  done
  return "$all_up"
}

cmd_down() {
  local svc down=()
  for svc in "${SERVICES[@]}"; do
    # FerretDB's PostgreSQL is not needed (and not started) when the Mongo URL is someone else's.
    [[ $svc != postgres ]] || ! mongo_is_external || continue
    svc_probe "$svc" "$(svc_url "$svc")" || down+=("$svc")
  done
  echo "${down[*]}"
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
      [[ $FERRETDB_HANDLER == sqlite || $FERRETDB_HANDLER == postgresql ]] ||
        die "FERRETDB_HANDLER must be sqlite or postgresql, not '$FERRETDB_HANDLER'"
      [[ $PG_SYNCHRONOUS_COMMIT == on || $PG_SYNCHRONOUS_COMMIT == off ]] ||
        die "FERRETDB_POSTGRESQL_SYNCHRONOUS_COMMIT must be on or off, not '$PG_SYNCHRONOUS_COMMIT'"
      local all=no
      [[ $# -gt 0 ]] || { set -- "${SERVICES[@]}"; all=yes; }
      check_services "$@"
      url_host_port "$NATS_URL" 4222 >/dev/null
      url_host_port "$REDIS_URL" 6379 >/dev/null
      url_host_port "$MONGO_URL" 27017 >/dev/null
      url_host_port "$FERRETDB_POSTGRESQL_URL" 5432 >/dev/null
      local implicit_pg=no
      # FerretDB on PostgreSQL needs it first; a postgres that this script runs is shown and
      # stopped even when the handler has been switched back to sqlite since.
      if [[ $FERRETDB_HANDLER == postgresql && " $* " == *" ferretdb "* && " $* " != *" postgres "* ]]; then
        [[ $cmd != start ]] || { set -- "$@" postgres; implicit_pg=yes; }
      fi
      if [[ $cmd != start && $all == yes && " $* " != *" postgres "* ]] && pid_of "$(pid_file postgres)" postgres >/dev/null; then
        set -- "$@" postgres
      fi
      case $cmd in
        start) with_lock "$DATA_DIR/run/infra.lock" 1800 cmd_start "$implicit_pg" "$@" ;;
        stop) with_lock "$DATA_DIR/run/infra.lock" 60 cmd_stop "$@" ;;
        status) cmd_status "$@" ;;
      esac
      ;;
    env) cmd_env ;;
    services) echo "${SERVICES[*]}" ;;
    down) cmd_down ;;
    bin) cmd_bin "$@" ;;
    *)
      usage >&2
      die "unknown command '$cmd'"
      ;;
  esac
}

main "$@"
