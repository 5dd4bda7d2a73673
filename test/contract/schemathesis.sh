#!/usr/bin/env bash
# Runs schemathesis (the version pinned in requirements.txt) from its own virtualenv, made on
# first use under $TOOLPATH_DATA_DIR/venvs and reinstalled only when requirements.txt changes.
# Arguments go to `schemathesis`. Used by openapi-contract.e2e-spec.ts; run by hand as
#   bash test/contract/schemathesis.sh run http://127.0.0.1:3000/docs-json -H "Authorization: Bearer <key>"
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
venv=${TOOLPATH_DATA_DIR:-$root/.data}/venvs/schemathesis
stamp=$venv/.requirements-stamp
want=$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)
if [[ ! -x $venv/bin/python ]]; then
  "${PYTHON:-python3}" -m venv "$venv" >&2
fi
if [[ $(cat "$stamp" 2>/dev/null) != "$want" ]]; then
  echo "installing schemathesis into $venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt" >&2
  echo "$want" > "$stamp"
fi
exec "$venv/bin/schemathesis" "$@"
