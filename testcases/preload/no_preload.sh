#!/usr/bin/env bash
# `tether run --no-preload` on programs/pipe.cpp: without the library the
# runtime cannot see the library's read(), so no deadlock is reported (the
# program's own status 0 passes through), while `tether run` alone reports
# it (preload.pipe). Usage: no_preload.sh TETHER PROG
set -uo pipefail
TETHER="${1:?}" PROG="${2:?}"
err="$(mktemp)"
trap 'rm -f "$err"' EXIT
"$TETHER" run --no-preload --timeout 30s -- "$PROG" >/dev/null 2>"$err" </dev/null
rc=$?
fail=0
[[ $rc == 0 ]] || { echo "FAIL: expected status 0 with --no-preload, got $rc"; fail=1; }
if grep -q "deadlock" "$err"; then echo "FAIL: a deadlock was reported with --no-preload"; fail=1; fi
if grep -q "libtether_preload.so" "$err"; then echo "FAIL: a preload warning with --no-preload"; fail=1; fi
if [[ $fail == 1 ]]; then
  echo "--- stderr:"; cat "$err"
  exit 1
fi
echo "PASS: no report without the preload library"
