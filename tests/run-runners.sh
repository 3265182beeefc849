#!/usr/bin/env bash
# Runs test runners one after another and adds up their closing lines.
# Each argument is one runner command (run through bash -c). Every runner must
# end with "N passed, N failed"; one that does not (a crash, a hang cut by the
# timeout) counts as one failure. Ends with "total: N passed, N failed".
set -u
timeout_s=${RUNNER_TIMEOUT:-900}
total_pass=0 total_fail=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for cmd in "$@"; do
  echo "=== $cmd"
  timeout --kill-after=10 "$timeout_s" bash -c "$cmd" 2>&1 | tee "$log"
  line=$(grep -E '^([A-Za-z]+: )?[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
  if [ -z "$line" ]; then
    echo "FAIL - runner ended without a summary line: $cmd"
    total_fail=$((total_fail + 1))
    continue
  fi
  p=$(sed -E 's/^([A-Za-z]+: )?([0-9]+) passed.*/\2/' <<<"$line")
  f=$(sed -E 's/^([A-Za-z]+: )?[0-9]+ passed, ([0-9]+) failed.*/\2/' <<<"$line")
  total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
done
echo "total: $total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
