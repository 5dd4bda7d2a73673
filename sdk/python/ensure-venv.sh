#!/usr/bin/env bash
# Makes sdk/python/.venv with the SDK and its test dependencies (pyproject.toml's `test` extra),
# and reinstalls only when pyproject.toml changes, so repeated runs need no network. Used by
# run-tests.sh and by the tests that drive the OpenTelemetry Python SDK (apps/gateway/test).
# Prints nothing on success; exits non-zero when the venv cannot be made.
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
