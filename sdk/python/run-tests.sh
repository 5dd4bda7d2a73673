#!/usr/bin/env bash
# Runs the Python SDK's tests against a real nats-server with JetStream.
#
# Uses $NATS_URL (default nats://127.0.0.1:4222) when a JetStream server answers there; otherwise
# the tests start their own from ~/.cache/toolpath/bin/nats-server (see tests/conftest.py).
# The venv is sdk/python/.venv (ensure-venv.sh: made on first use, reinstalled only when
# pyproject.toml changes, so repeated runs need no network). Extra arguments go to pytest. Exits with pytest's status.
set -uo pipefail
cd "$(dirname "$0")"

VENV=.venv
bash ./ensure-venv.sh || exit 1

LOG="$(mktemp)"
trap 'rm -f "$LOG"' EXIT
timeout "${TOOLPATH_PY_TEST_TIMEOUT:-900}" "$VENV/bin/python" -m pytest -q -p no:cacheprovider "$@" 2>&1 | tee "$LOG"
status=${PIPESTATUS[0]}
summary="$(grep -E '^(=+ )?[0-9]+ (passed|failed|error)|no tests ran' "$LOG" | tail -n 1 | sed -E 's/^=+ //; s/ =+$//')"
echo "python sdk: ${summary:-no pytest summary (status $status)}"
exit "$status"
