#!/usr/bin/env bash
# Installs the Node dependencies (when the lock file changed) and builds every lib and app.
set -euo pipefail
[[ ${1:-} == --help ]] && { echo "Usage: scripts/setup.sh   installs npm dependencies if needed and builds (tsc -b, then the console with Vite)"; exit 0; }
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
node -e 'const [a,b]=process.versions.node.split(".").map(Number); if (a<20||(a===20&&b<19)) { console.error("Node >= 20.19 is required, found "+process.versions.node); process.exit(1) }'
stamp=node_modules/.toolpath-lock-sha
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  echo "installing npm dependencies..."
  # `npm ci`: exactly the lock, never rewritten. The lock lists every platform's optional native
  # binaries (written by npm 11), so npm 10 and npm 11 both accept it.
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi
echo "building..."
npx tsc -b tsconfig.build.json
# The web console (apps/console): a Vite bundle the gateway serves at `/`, hashed and pre-compressed.
echo "building the console..."
npm run build --silent -w @toolpath/console
