#!/usr/bin/env bash
# Runs the Python SDK's tests against a real nats-server with JetStream.
#
# Uses $NATS_URL (default nats://127.0.0.1:4222) when a JetStream server answers there; otherwise
# the tests start their own from ~/.cache/toolpath/bin/nats-server (see tests/conftest.py).
# Creates sdk/python/.venv on first use and reinstalls only when pyproject.toml changes, so
# repeated runs need no network. Extra arguments go to pytest. Exits with pytest's status.
set -uo pipefail
cd "$(dirname "$0")"

PYTHON="${PYTHON:-python3}"
VENV=.venv
STAMP="$VENV/.toolpath-install-stamp"
WANT="$(sha256sum pyproject.toml | cut -d' ' -f1)"

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV" || { echo "python sdk: cannot create $VENV" >&2; exit 1; }
fi
if [ "$(cat "$STAMP" 2>/dev/null)" != "$WANT" ]; then
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -e '.[test]' \
    || { echo "python sdk: pip install failed" >&2; exit 1; }
  echo "$WANT" > "$STAMP"
fi

LOG="$(mktemp)"
trap 'rm -f "$LOG"' EXIT
timeout "${TOOLPATH_PY_TEST_TIMEOUT:-900}" "$VENV/bin/python" -m pytest -q -p no:cacheprovider "$@" 2>&1 | tee "$LOG"
status=${PIPESTATUS[0]}
summary="$(grep -E '^(=+ )?[0-9]+ (passed|failed|error)|no tests ran' "$LOG" | tail -n 1 | sed -E 's/^=+ //; s/ =+$//')"
echo "python sdk: ${summary:-no pytest summary (status $status)}"
exit "$status"
