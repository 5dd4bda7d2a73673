#!/usr/bin/env bash
# Starts the whole of Toolpath on this machine in the foreground: the infrastructure
# (scripts/infra.sh: NATS JetStream, Redis, FerretDB), then the five apps. Ctrl-C stops the apps,
# and the infrastructure this run started. The environment passes through to every app.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: scripts/dev.sh [--help]        (also: npm start)

Installs dependencies if needed, builds, starts NATS/Redis/FerretDB where nothing answers at
NATS_URL/REDIS_URL/MONGO_URL, then runs gateway, recorder, analyzer, executor and generator in the
foreground with their logs prefixed by name. Ctrl-C stops them all.

Settings come from the environment (see .env.example); a .env file in the repo root is read if
present. With TOOLPATH_API_KEYS unset, a development key for tenant "dev" is made once, kept in
$TOOLPATH_DATA_DIR/dev-api-key and printed.
  PORT                  gateway port (default 3000); apps: RECORDER_PORT 3001, ANALYZER_PORT 3002,
                        EXECUTOR_PORT 3003, GENERATOR_PORT 3004
  TOOLPATH_KEEP_INFRA=1 leave the infrastructure running after Ctrl-C
USAGE
}
[[ ${1:-} == --help || ${1:-} == -h ]] && { usage; exit 0; }

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
if [[ -f .env ]]; then set -a; source .env; set +a; fi
export TOOLPATH_DATA_DIR=${TOOLPATH_DATA_DIR:-$ROOT/.data}
export LOG_FORMAT=${LOG_FORMAT:-pretty}
APPS=(recorder analyzer executor generator gateway)

bash scripts/setup.sh

# Remember what was down, so Ctrl-C stops only what this run started.
read -ra started_infra <<<"$(bash scripts/infra.sh down)"
bash scripts/infra.sh start
eval "$(bash scripts/infra.sh env)"

if [[ -z ${TOOLPATH_API_KEYS:-} ]]; then
  key_file=$TOOLPATH_DATA_DIR/dev-api-key
  if [[ ! -s $key_file ]]; then
    mkdir -p "$TOOLPATH_DATA_DIR"
    (umask 077; echo "tp_dev_$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')" > "$key_file")
  fi
  export TOOLPATH_API_KEYS="$(cat "$key_file"):dev"
fi
api_key=${TOOLPATH_API_KEYS%%,*}; api_key=${api_key%:*}

pids=()
cleanup() {
  trap - INT TERM EXIT
  echo; echo "stopping apps..."
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [[ ${TOOLPATH_KEEP_INFRA:-} != 1 && ${#started_infra[@]} -gt 0 ]]; then
    bash scripts/infra.sh stop "${started_infra[@]}" || true
  fi
}
# Ctrl-C / SIGTERM: stop everything and exit quietly (not through the "an app stopped" path below).
trap 'cleanup; exit 0' INT TERM
trap cleanup EXIT

for app in "${APPS[@]}"; do
  # Each app's output, line by line, behind its name.
  node "apps/$app/dist/main.js" > >(sed -u "s/^/[$app] /") 2>&1 &
  pids+=($!)
done

port=${PORT:-3000}
for _ in $(seq 1 120); do
  if curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1; then break; fi
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null || { echo "an app exited during start-up; see its log above" >&2; exit 1; }; done
  sleep 0.5
done
cat <<MSG

  Toolpath is running.
  Console   http://127.0.0.1:$port/   (sign in with the API key below)
  Gateway   http://127.0.0.1:$port/api/v1
  API docs  http://127.0.0.1:$port/docs   (OpenAPI JSON: /docs-json)
  MCP       http://127.0.0.1:$port/mcp   (Streamable HTTP, the same key; over stdio: npx toolpath-mcp)
  OTLP      http://127.0.0.1:$port/v1/traces   (OpenTelemetry traces, the same key)
  API key   $api_key
  Try       curl -H 'Authorization: Bearer $api_key' http://127.0.0.1:$port/api/v1/stats
  Ctrl-C stops everything this command started.

MSG
wait -n "${pids[@]}" || true
echo "an app stopped; shutting down the rest" >&2
exit 1
