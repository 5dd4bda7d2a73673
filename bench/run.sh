#!/usr/bin/env bash
# Builds the repository and the benchmarks, runs them against the local NATS and Mongo-wire
# server, writes bench/results/latest.json and prints the figures as a markdown table on stdout
# (each bench's own report and progress go to stderr). See docs/PERFORMANCE.md.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: bash bench/run.sh [--full] [--help]        (or: npm run bench [-- --full])

Quick set (a few minutes):
  publish          EventPublisher vs a bare js.publish loop          (bench/publish.bench.ts)
  ingest           100,000 events (2 alternating rounds): raw insertMany vs end to end,
                   and a naive recorder (10,000 events)
  latency          publish -> stored latency at half the measured maximum throughput
  suggestions      suggestion lookup p95 with 10,000 learned workflows vs bare minisearch
  learning         planted-workflow precision/recall, bindings and parallel steps per noise level
  mining           200,000 events through assembly and counting (in process), inner loop
  proxy            chat-completions proxy overhead, 500 samples per path and mode
  otlp-ingest      execute_tool spans into POST /v1/traces (protobuf, JSON) vs REST batch ingest
                   of the same events, events/s (about a minute)
  executor         no-op step latency and throughput vs bare BullMQ, parallel DAGs, two
                   executors vs one (about 2 minutes)
  console-graphs   the console in headless Chromium against a fake API: a 500-step workflow and
                   a 200-activity / 2,000-edge process map drawn, vs 10-node graphs (about a
                   minute; needs apps/console/dist: cd apps/console && npx vite build)
--full adds, at the sizes of the issue:
  ingest           200,000 events in 4 rounds (naive recorder: 20,000) instead of the above
  recorder-memory  1,000,000 events through one recorder, its RSS sampled every second
  mining           1,000,000 events instead of 200,000
  proxy            1,500 samples per path and mode instead of 500
  generator        workflow generation through gateway + generator, 10,000-workflow catalog
  analyzer-incremental  the analyzer process: 1,000,000 events, then 10,000 new ones per
                   incremental run (5 rounds) vs a bare JetStream read of them
  runs-list        GET /executions with 100,000 finished runs vs 1,000 (same database and a
                   database of its own), through gateway + executor: first page, page 50,
                   filtered pages (about 5-10 minutes; seeds the rows directly)
  real-logs        the analyzer on real logs vs pm4py and simple baselines, when there are logs
                   in $REAL_LOGS_DIR (default .data/real-logs: *.xes, *.xes.gz, *.csv, and
                   *.jsonl of events; see docs/ANALYZER.md "Measuring on real logs")

Needs NATS (JetStream) and a MongoDB-compatible server on 127.0.0.1 (scripts/infra.sh start).
Each bench uses its own stream, subject prefix and database and removes them afterwards.
Every bench runs on its own too: node bench/dist/<name>.bench.js --help
EOF
  # The benches this script does not run (executor, learning, ...) are listed so they are found.
  local others
  others=$(cd "$(dirname "${BASH_SOURCE[0]}")" && ls -- *.bench.ts 2>/dev/null | sed 's/\.bench\.ts$//' |
    grep -vx -e publish -e ingest -e latency -e recorder-memory -e suggestions -e learning -e mining -e proxy -e generator \
      -e analyzer-incremental -e executor -e real-logs -e console-graphs -e otlp-ingest -e runs-list | tr '\n' ' ' || true)
  [[ -n $others ]] && echo "Not run by this script, only on their own: ${others% }"
  return 0
}

FULL=0
for arg in "$@"; do
  case $arg in
    --full) FULL=1 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "unknown argument: $arg" >&2; usage >&2; exit 2 ;;
  esac
done

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
RESULTS=bench/results
mkdir -p "$RESULTS"
rm -f "$RESULTS"/*.tmp

if ! bash scripts/infra.sh status nats ferretdb >&2; then
  echo "bench: NATS or the Mongo-wire server is not answering; start them with: bash scripts/infra.sh start" >&2
  exit 1
fi

echo "bench: building (tsc -b tsconfig.build.json, bench/tsconfig.json)" >&2
npx --no-install tsc -b tsconfig.build.json >&2
npx --no-install tsc -b bench/tsconfig.json >&2

jsons=()
failed=()
run() { # run <name> <args...>
  local name=$1
  shift
  local out=$RESULTS/$name.json.tmp
  echo >&2
  echo "bench: ---- $name $* ----" >&2
  if node "bench/dist/$name.bench.js" "$@" --json "$out" >&2 && [[ -s $out ]]; then
    jsons+=("$out")
  else
    failed+=("$name")
  fi
}

if [[ -f bench/dist/publish.bench.js ]]; then
  run publish
else
  echo "bench: bench/publish.bench.ts is not there yet; skipping it" >&2
fi
if ((FULL)); then
  run ingest --events 200000 --rounds 4 --naive-events 20000
else
  run ingest --events 100000 --rounds 2 --naive-events 10000
fi
run latency
if ((FULL)); then
  run recorder-memory --events 1000000
fi
run suggestions
run otlp-ingest
run learning
run executor
# The built console only: the bench serves apps/console/dist itself and starts no service.
if [[ -f apps/console/dist/index.html ]]; then
  run console-graphs
else
  echo "bench: apps/console/dist is not built (cd apps/console && npx vite build); skipping console-graphs" >&2
fi
if ((FULL)); then
  run mining --events 1000000
  run proxy
  run generator
  run analyzer-incremental --events 1000000 --new 10000 --rounds 5
  run runs-list --runs 100000 --baseline-runs 1000 --old-query
  # Real logs only when some are there: the bench takes paths and never downloads.
  real_dir=${REAL_LOGS_DIR:-.data/real-logs}
  real_args=()
  if [[ -d $real_dir ]]; then
    while IFS= read -r -d '' f; do
      case $f in
        *.jsonl) real_args+=(--sessions "$f") ;;
        *) real_args+=(--xes "$f") ;;
      esac
    done < <(find "$real_dir" -maxdepth 1 -type f \( -name '*.xes' -o -name '*.xes.gz' -o -name '*.csv' -o -name '*.jsonl' \) -print0 | sort -z)
  fi
  if ((${#real_args[@]})); then
    run real-logs "${real_args[@]}"
  else
    echo "bench: no logs in $real_dir; skipping real-logs (docs/ANALYZER.md \"Measuring on real logs\")" >&2
  fi
else
  run mining --events 200000
  run proxy --samples 500 --warmup 100
fi

mode=quick
((FULL)) && mode=full
failed_args=()
for f in "${failed[@]}"; do failed_args+=(--failed "$f"); done
node bench/dist/summarize.js --out "$RESULTS/latest.json" --mode "$mode" "${failed_args[@]}" "${jsons[@]}"
rm -f "$RESULTS"/*.tmp
if ((${#failed[@]})); then
  echo "bench: failed: ${failed[*]}" >&2
  exit 1
fi
