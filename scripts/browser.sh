#!/usr/bin/env bash
# Makes sure a Chromium is installed for the console's browser test (test/console) and prints its
# path on the last line. Playwright's own browser downloads are not used: playwright-core drives
# Debian's `chromium` package, installed here with apt-get when it is missing (as root).
# Messages go to stderr, so `TOOLPATH_CHROMIUM=$(bash scripts/browser.sh)` gets the path alone.
set -euo pipefail
if [[ ${1:-} == --help || ${1:-} == -h ]]; then
  echo "Usage: scripts/browser.sh   installs Debian's chromium if missing (apt-get, as root) and prints its path"
  exit 0
fi

say() { echo "browser: $*" >&2; }

# An explicit choice wins, when it is there.
if [[ -n ${TOOLPATH_CHROMIUM:-} ]]; then
  if [[ -x $TOOLPATH_CHROMIUM ]]; then
    say "using TOOLPATH_CHROMIUM=$TOOLPATH_CHROMIUM"
    echo "$TOOLPATH_CHROMIUM"
    exit 0
  fi
  say "TOOLPATH_CHROMIUM=$TOOLPATH_CHROMIUM is not an executable file; looking for chromium instead"
fi

if path=$(command -v chromium); then
  say "chromium is installed: $path"
  echo "$path"
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  say "chromium is not installed and this is not root: install it with 'sudo apt-get install -y chromium'"
  say "(or set TOOLPATH_CHROMIUM to a Chromium executable)"
  exit 1
fi
if ! command -v apt-get >/dev/null; then
  say "chromium is not installed and apt-get is not available: install Chromium and set TOOLPATH_CHROMIUM to its path"
  exit 1
fi

say "chromium is not installed: apt-get update && apt-get install -y chromium"
if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; } >&2; then
  say "apt-get could not install chromium (see above)"
  exit 1
fi
if ! path=$(command -v chromium); then
  say "apt-get installed chromium but there is no 'chromium' on the PATH"
  exit 1
fi
say "installed chromium: $path ($("$path" --version 2>/dev/null || echo 'version unknown'))"
echo "$path"
