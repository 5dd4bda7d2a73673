#!/usr/bin/env bash
# Creates .data/venv-pm4py (gitignored) with the pinned pm4py of requirements.txt, once.
# Prints the venv's python on stdout; progress goes to stderr. Re-running is a no-op when the
# pinned version is already installed.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
VENV=${PM4PY_VENV:-$ROOT/.data/venv-pm4py}
PY=${PYTHON:-python3}
case ${1:-} in
  -h | --help)
    echo "Usage: bash bench/pm4py/setup.sh   creates \$PM4PY_VENV (default .data/venv-pm4py) with bench/pm4py/requirements.txt; prints its python"
    exit 0 ;;
esac
want=$(grep -E '^pm4py==' "$HERE/requirements.txt" | head -n 1)
if [[ -x $VENV/bin/python ]] && "$VENV/bin/python" -m pip freeze 2>/dev/null | grep -qxF "$want"; then
  echo "$VENV/bin/python"
  exit 0
fi
echo "pm4py: creating $VENV with $want (a few minutes, once)" >&2
"$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$HERE/requirements.txt" >&2
echo "$VENV/bin/python"
