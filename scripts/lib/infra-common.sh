# shellcheck shell=bash disable=SC2016 # single-quoted bash -c / node programs take their input as arguments
# Helpers for scripts/infra.sh: messages, URL parsing, protocol probes and process control.
# Sourced, not executed; expects `set -euo pipefail` from the caller and REPO_ROOT to be set.

# shellcheck disable=SC2034 # read by infra.sh
PROBE_DETAIL='' # what the last probe saw (the NATS INFO line)

say() { printf 'infra: %s\n' "$*" >&2; }
die() { printf 'infra: error: %s\n' "$*" >&2; exit 1; }

now_ms() { date +%s%3N; }
elapsed() { local ms=$(( $(now_ms) - $1 )); printf '%d.%01ds' $((ms / 1000)) $((ms % 1000 / 100)); }

# "scheme://user:pass@host:port,host2/db?opts" -> "host port" (the first host only; no IPv6).
url_host_port() {
  local url=$1 default_port=$2 authority host port
  authority=${url#*://}
  authority=${authority%%[/?#]*}
  authority=${authority##*@}
  authority=${authority%%,*}
  host=${authority%%:*}
  port=${authority#"$host"}
  port=${port#:}
  [[ -n $host ]] || host=127.0.0.1
  [[ -n $port ]] || port=$default_port
  [[ $port =~ ^[0-9]+$ ]] || die "cannot read a port from URL '$url'"
  printf '%s %s\n' "$host" "$port"
}

is_loopback() { [[ $1 == localhost || $1 =~ ^127\.[0-9]+\.[0-9]+\.[0-9]+$ ]]; }
bind_address() { if [[ $1 == localhost ]]; then echo 127.0.0.1; else echo "$1"; fi; }

tcp_open() {
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null
}

# Probes answer 0 = healthy, 1 = nothing listening, 2 = something listens but is not healthy.

# NATS greets every client with an INFO line; PROBE_DETAIL keeps it (it says whether JetStream is on).
probe_nats() {
  local host port line
  read -r host port < <(url_host_port "$1" 4222)
  PROBE_DETAIL=
  if line=$(timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1" && IFS= read -r l <&3 && printf %s "$l"' \
    "$host" "$port" 2>/dev/null) && [[ $line == INFO* ]]; then
    # shellcheck disable=SC2034 # read by infra.sh
    PROBE_DETAIL=$line
    return 0
  fi
  tcp_open "$host" "$port" && return 2
  return 1
}

probe_redis() {
  local url=$1 host port out
  read -r host port < <(url_host_port "$url" 6379)
  if command -v redis-cli >/dev/null 2>&1; then
    out=$(timeout 3 redis-cli -u "$url" --no-auth-warning ping 2>/dev/null || true)
  else
    out=$(timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1" && printf "PING\r\n" >&3 && IFS= read -r l <&3 && printf %s "$l"' \
      "$host" "$port" 2>/dev/null || true)
    out=${out%$'\r'}
    out=${out#+}
  fi
  [[ $out == PONG ]] && return 0
  tcp_open "$host" "$port" && return 2
  return 1
}

# A real `ping` command: through the repo's mongodb driver when installed (it handles auth and
# TLS in the URL), otherwise as a hand-made OP_MSG; a bare TCP check only when node is missing.
MONGO_PING_JS='
const [url, host, port, repo] = process.argv.slice(1);
const done = (code) => process.exit(code);
let driver = null;
try { driver = require(require.resolve("mongodb", { paths: [repo] })); } catch {}
if (driver) {
  const client = new driver.MongoClient(url, { serverSelectionTimeoutMS: 2500, connectTimeoutMS: 2500 });
  client.db("admin").command({ ping: 1 })
    .then((r) => done(r && r.ok === 1 ? 0 : 2))
    .catch((e) => done(/ECONNREFUSED/.test(String(e && (e.cause || e.message || e))) ? 1 : 2))
    .finally(() => client.close().catch(() => {}));
} else {
  const cstr = (s) => Buffer.from(s + "\0");
  const i32 = (n) => { const b = Buffer.alloc(4); b.writeInt32LE(n); return b; };
  const body = Buffer.concat([Buffer.from([0x10]), cstr("ping"), i32(1),
    Buffer.from([0x02]), cstr("$db"), i32(6), cstr("admin"), Buffer.from([0])]);
  const doc = Buffer.concat([i32(body.length + 4), body]);
  const msg = Buffer.concat([i32(0), i32(1), i32(0), i32(2013), i32(0), Buffer.from([0]), doc]);
  msg.writeInt32LE(msg.length, 0);
  const sock = require("net").connect(Number(port), host);
  let buf = Buffer.alloc(0);
  sock.setTimeout(2500, () => { sock.destroy(); done(2); });
  sock.on("error", (e) => done(e.code === "ECONNREFUSED" ? 1 : 2));
  sock.on("connect", () => sock.write(msg));
  sock.on("data", (d) => {
    buf = Buffer.concat([buf, d]);
    if (buf.length < 4 || buf.length < buf.readInt32LE(0)) return;
    const at = buf.indexOf(Buffer.from([0x01, 0x6f, 0x6b, 0x00]), 21);
    const ok = buf.readInt32LE(12) === 2013 && at > 0 && buf.readDoubleLE(at + 4) === 1;
    sock.destroy();
    done(ok ? 0 : 2);
  });
}'

probe_mongo() {
  local url=$1 host port
  read -r host port < <(url_host_port "$url" 27017)
  tcp_open "$host" "$port" || return 1 # the driver would wait for its server-selection timeout
  if command -v node >/dev/null 2>&1; then
    local rc=0
    timeout 8 node -e "$MONGO_PING_JS" "$url" "$host" "$port" "$REPO_ROOT" >/dev/null 2>&1 || rc=$?
    case $rc in 0 | 1) return "$rc" ;; *) return 2 ;; esac
  fi
  return 0
}

# PostgreSQL answers an SSLRequest (8 bytes) with one byte, 'S' or 'N', before any authentication,
# even while it starts up; so this needs no client program and no credentials.
probe_postgres() {
  local host port out
  read -r host port < <(url_host_port "$1" 5432)
  out=$(timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1" && printf "\x00\x00\x00\x08\x04\xd2\x16\x2f" >&3 && head -c 1 <&3' \
    "$host" "$port" 2>/dev/null || true)
  [[ $out == S || $out == N ]] && return 0
  tcp_open "$host" "$port" && return 2
  return 1
}

# "postgres://user:password@host:port/db?opts" -> "user db" ('-' for a part the URL leaves out).
url_user_db() {
  local rest=${1#*://} authority userinfo='' user db
  authority=${rest%%[/?#]*}
  [[ $authority != *@* ]] || userinfo=${authority%@*}
  user=${userinfo%%:*}
  db=${rest#"$authority"}
  db=${db#/}
  db=${db%%[?#]*}
  printf '%s %s\n' "${user:--}" "${db:--}"
}

http_ok() { # http_ok <host> <port> <path>: 0 when the answer is 200
  if command -v curl >/dev/null 2>&1; then
    curl -fsS --max-time 2 -o /dev/null "http://$1:$2$3" 2>/dev/null
  else
    timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1" &&
      printf "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" "$2" "$0" >&3 &&
      IFS= read -r l <&3 && [[ $l == "HTTP/"*" 200 "* ]]' "$1" "$2" "$3" 2>/dev/null
  fi
}

# A zombie counts as gone: it has exited, and some init processes are slow to reap it.
alive() {
  local stat
  kill -0 "$1" 2>/dev/null || return 1
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  stat=${stat##*) }
  [[ ${stat:0:1} != Z ]]
}

# The process behind a pid file, if it is still the program we started (pids get reused).
# Line 1 of a pid file is the pid; line 2 says where the server listens.
pid_of() { # pid_of <pidfile> <program-name>
  local pidfile=$1 name=$2 pid exe argv0
  [[ -f $pidfile ]] || return 1
  pid=$(head -n 1 "$pidfile")
  [[ $pid =~ ^[0-9]+$ ]] && alive "$pid" || return 1
  # The executable, or argv[0] (Debian's redis-server is a symlink to redis-check-rdb).
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null || true)
  exe=${exe% (deleted)}
  argv0=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)
  argv0=${argv0%% *}
  [[ ${exe##*/} == "$name" || ${argv0##*/} == "$name" ]] || return 1
  echo "$pid"
}

# Detached from this shell's session so it outlives the script; output appended to the log.
spawn() { # spawn <pidfile> <logfile> <cmd...>
  local pidfile=$1 log=$2
  shift 2
  mkdir -p "$(dirname "$pidfile")" "$(dirname "$log")"
  printf '\n=== %s infra.sh: %s\n' "$(date '+%F %T')" "$*" >>"$log"
  if command -v setsid >/dev/null 2>&1; then
    setsid nohup "$@" >>"$log" 2>&1 </dev/null 9>&- &
  else
    nohup "$@" >>"$log" 2>&1 </dev/null 9>&- &
  fi
  echo $! >"$pidfile"
}

terminate() { # terminate <pid> [signal [seconds]]: the signal (TERM), up to 10 s, then KILL
  local pid=$1 sig=${2:-TERM} secs=${3:-10} i
  kill -"$sig" "$pid" 2>/dev/null || return 0
  for ((i = 0; i < secs * 10; i++)); do
    alive "$pid" || return 0
    sleep 0.1
  done
  say "pid $pid ignored SIG$sig for $secs s; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
}

show_log_tail() {
  [[ -f $1 ]] || return 0
  printf 'infra: --- last lines of %s ---\n' "$1" >&2
  tail -n 25 "$1" >&2
  printf 'infra: ---\n' >&2
}

# Runs exclusively on an fd-9 lock file when flock exists (two `start`s at once, two builds).
# spawn() closes fd 9 so that the servers it starts do not keep holding the lock.
with_lock() { # with_lock <lockfile> <wait-seconds> <cmd...>
  local lock=$1 wait=$2
  shift 2
  if ! command -v flock >/dev/null 2>&1; then "$@"; return; fi
  mkdir -p "$(dirname "$lock")"
  (
    flock -w "$wait" 9 || die "another infra.sh holds $lock for more than ${wait}s"
    "$@"
  ) 9>"$lock"
}
