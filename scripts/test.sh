#!/usr/bin/env bash
# Runs every test of the project on a fresh machine: installs and builds, starts the
# infrastructure the tests need (scripts/infra.sh), then type-check, lint, the typed API client
# against the OpenAPI document, Chromium for the console's browser test (scripts/browser.sh), jest
# (unit, integration and reliability tests against the real NATS, Redis and FerretDB, the
# console's component tests and its end-to-end test in Chromium), the Python SDK's pytest, and the
# docker-compose file's validation.
# Benchmarks are not part of it (npm run bench).
set -uo pipefail

if [[ ${1:-} == --help || ${1:-} == -h ]]; then
  cat <<'USAGE'
Usage: scripts/test.sh [jest args...]        (also: npm test)

Installs, builds, starts NATS/Redis/FerretDB if nothing answers at their URLs, then runs:
type-check (tsc, the console too), lint (eslint), the typed API client against the OpenAPI
document, Chromium for the console's browser test (installed with apt-get if missing), jest, the
Python SDK tests (pytest), docker-compose validation.
Arguments are passed to jest (e.g. a path to run one suite). Ends with "N passed, N failed".
At the end it stops the servers it started; those that already ran are left running (start them
first with 'bash scripts/infra.sh start' to keep them between runs).
USAGE
  exit 0
fi

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export TOOLPATH_DATA_DIR=${TOOLPATH_DATA_DIR:-$ROOT/.data}
results=$TOOLPATH_DATA_DIR/test-results
mkdir -p "$results"
passed=0; failed=0
step() { printf '\n==> %s\n' "$*"; }
count() { # count <passed> <failed> <label>
  passed=$((passed + $1)); failed=$((failed + $2))
  printf '%s: %d passed, %d failed\n' "$3" "$1" "$2"
}

step "setup"
bash scripts/setup.sh || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }
step "infrastructure"
# Remember what was down, so that only what this run starts is stopped at its end.
read -ra started_infra <<<"$(bash scripts/infra.sh down)"
stop_started_infra() {
  [[ ${#started_infra[@]} -eq 0 ]] || { step "stopping what this run started: ${started_infra[*]}"; bash scripts/infra.sh stop "${started_infra[@]}" || true; }
}
trap stop_started_infra EXIT
bash scripts/infra.sh start || { echo "infrastructure failed to start"; echo "0 passed, 1 failed"; exit 1; }
eval "$(bash scripts/infra.sh env)"

step "type-check"
# The services and libs (Node), then the console (browser, its own compiler settings).
# Both run, so that one run shows the errors of both.
tc_ok=1
npx tsc -p tsconfig.json || tc_ok=0
npx tsc -p apps/console || tc_ok=0
if [[ $tc_ok -eq 1 ]]; then count 1 0 typecheck; else count 0 1 typecheck; fi

step "lint"
if npx eslint --max-warnings 0 .; then count 1 0 lint; else count 0 1 lint; fi

step "api client"
# The typed REST client's types (libs/api-client) must be what the gateway's OpenAPI document gives.
if node scripts/api-client.mjs check; then count 1 0 api-client; else count 0 1 api-client; fi

step "browser"
# Debian's chromium for the console's end-to-end test (test/console), driven by playwright-core.
if TOOLPATH_CHROMIUM=$(bash scripts/browser.sh); then
  export TOOLPATH_CHROMIUM
else
  echo "no Chromium: the console's browser test will fail"
  count 0 1 browser
fi

step "jest"
npx jest --json --outputFile="$results/jest.json" "$@"
jest_rc=$?
if [[ -s $results/jest.json ]]; then
  read -r jp jf < <(node -e 'const r=require(process.argv[1]); console.log(r.numPassedTests, r.numFailedTests + (r.numRuntimeErrorTestSuites||0))' "$results/jest.json")
  [[ $jest_rc -ne 0 && $jf -eq 0 ]] && jf=1
  count "$jp" "$jf" jest
else
  count 0 1 jest
fi

step "python sdk (pytest)"
py_out=$results/pytest.txt
bash sdk/python/run-tests.sh 2>&1 | tee "$py_out"
py_rc=${PIPESTATUS[0]}
pp=$(grep -Eo '[0-9]+ passed' "$py_out" | tail -1 | grep -Eo '[0-9]+' || echo 0)
pf=$(grep -Eo '[0-9]+ (failed|error)' "$py_out" | awk '{s+=$1} END {print s+0}')
[[ $py_rc -ne 0 && $pf -eq 0 ]] && pf=1
count "${pp:-0}" "$pf" pytest

step "docker-compose.yml"
if ! command -v docker-compose >/dev/null && [[ $(id -u) -eq 0 ]]; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose) >/dev/null 2>&1 || true
fi
if command -v docker-compose >/dev/null; then
  if docker-compose -f docker-compose.yml config -q; then count 1 0 compose; else count 0 1 compose; fi
else
  echo "docker-compose is not available; compose validation skipped"
fi

# Before the summary, so that the summary stays the last line (the trap is for early exits).
trap - EXIT
stop_started_infra
printf '\n%d passed, %d failed\n' "$passed" "$failed"
[[ $failed -eq 0 ]]
