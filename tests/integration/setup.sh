#!/usr/bin/env bash
# Prepares what the integration tests need beyond `make`: the dependencies of
# the Node test server (tests/servers, package `ws`). Idempotent: `npm ci` runs
# only when node_modules is missing or older than package-lock.json.
set -euo pipefail

servers="$(cd "$(dirname "${BASH_SOURCE[0]}")/../servers" && pwd)"
lock="$servers/package-lock.json"
# npm writes this file on every install: its age is the age of node_modules.
stamp="$servers/node_modules/.package-lock.json"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "setup.sh: the integration tests need node and npm for their second server" \
       "(tests/servers/ws-server.mjs)." >&2
  echo "setup.sh: install them with 'tools/ensure-deps.sh check' (as root)," \
       "or 'apt-get install nodejs npm'." >&2
  exit 1
fi

if [ -f "$stamp" ] && [ -d "$servers/node_modules/ws" ] && [ ! "$lock" -nt "$stamp" ]; then
  exit 0
fi

echo "setup.sh: installing the test server's dependencies (npm ci in tests/servers)" >&2
if ! (cd "$servers" && npm ci --no-audit --no-fund >&2); then
  echo "setup.sh: 'npm ci' failed in $servers; the Node test server cannot run." >&2
  exit 1
fi
# npm ci keeps the lock's own mtime on some versions; make the stamp newer.
touch "$stamp"
