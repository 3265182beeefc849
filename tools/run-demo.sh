#!/usr/bin/env bash
# make run: starts the development report service with its demo report, and the
# client, and shows what the client receives. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."

key="demo-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null; rm -rf "$tmp"' EXIT

REPORTLINK_DEVSERVER_KEYS="$key" build/reportlink-devserver --port 0 --demo --demo-delay 1500 \
  >"$tmp/server.out" 2>"$tmp/server.err" &
for _ in $(seq 50); do [ -s "$tmp/server.out" ] && break; sleep 0.1; done
port=$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' "$tmp/server.out" | head -n 1)
[ -n "$port" ] || { cat "$tmp/server.err" >&2; echo "the devserver did not start" >&2; exit 1; }

echo "Development report service on ws://127.0.0.1:$port/reports/ws (demo key generated)."
echo "The client connects, authenticates, and the service sends its demo report:"
echo
REPORTLINK_DOCTOR_KEY="$key" build/reportlink-listen --url "ws://127.0.0.1:$port/reports/ws" \
  --count 1 --quiet | /usr/bin/python3 -c '
import json, sys
for line in sys.stdin:
    ev = json.loads(line)
    if ev["event"] == "state":
        print("  [%s] %s" % (ev["state"], ev["detail"]))
    elif ev["event"] == "report":
        print("\n  Report received:")
        for k, v in ev["message"].get("json_report", {}).items():
            print("    %-15s %s" % (k, v.replace("\n", "\n" + " " * 20)))
    else:
        print("  ", line.strip())
'
echo
echo "Push your own report while a client listens:"
echo "  curl -H 'X-Doctor-Key: KEY' -d '{\"diagnosis\":\"...\"}' http://127.0.0.1:PORT/reports/push"
