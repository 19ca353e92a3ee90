#!/usr/bin/env bash
# Proves that run_case.sh's checks bite: a deadlocking program checked against
# its near miss's expectations (and the near miss against the deadlock's)
# must FAIL, with run_case.sh's failure report.
#   selftest.sh TETHER DEADLOCK_PROG NEAR_PROG DEADLOCK_EXPECT NEAR_EXPECT
set -uo pipefail
TETHER="$1" BAD="$2" NEAR="$3" BAD_EXPECT="$4" NEAR_EXPECT="$5"
RUNNER="$(dirname "$0")/run_case.sh"
status=0
for pair in "$BAD|$NEAR_EXPECT" "$NEAR|$BAD_EXPECT"; do
  prog="${pair%%|*}" expect="${pair#*|}"
  out="$(bash "$RUNNER" run "$TETHER" "$prog" "$expect" 2>&1)"
  rc=$?
  if [[ $rc -ne 1 ]] || ! grep -q "^FAIL deadlock\." <<<"$out"; then
    echo "selftest: $(basename "$prog") against $(basename "$expect") should FAIL (status 1), got status $rc:"
    echo "$out"
    status=1
  else
    echo "ok: $(basename "$prog") against $(basename "$expect") fails as it must"
  fi
done
exit $status
