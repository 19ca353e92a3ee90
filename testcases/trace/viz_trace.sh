#!/usr/bin/env bash
# `tether viz TRACE [--at T]` (issue 5's trace input):
#   viz_trace.sh TETHER LOCK_CYCLE_PROG
# traces the lock-cycle program, draws its graph at the end (the deadlock's
# nodes in the deadlock colour, both fibers by name) and at time 0 (no
# deadlock yet), and checks the input errors: a bad --at, --at on a snapshot,
# a truncated trace: exit 2 with one message naming the file.
set -uo pipefail
TETHER="${1:?usage: viz_trace.sh TETHER LOCK_CYCLE_PROG}"
PROG="${2:?}"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/tether-viz-trace.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
FAILS=()
fail() { FAILS+=("$1"); }

"$TETHER" run --timeout 30s --trace "$TMP/t.tt" -- "$PROG" >/dev/null 2>"$TMP/run.err" </dev/null
[[ -s "$TMP/t.tt" ]] || { echo "FAIL: no trace written"; cat "$TMP/run.err"; exit 1; }

# Under ASan, Graphviz's known leaks are suppressed by name (viz/lsan.supp, set by
# CTest); Debian's Graphviz has no frame pointers, so the names are only seen with
# the slow unwinder. Only for the drawing: the traced run keeps ASan's defaults.
export ASAN_OPTIONS="fast_unwind_on_malloc=0${ASAN_OPTIONS:+:${ASAN_OPTIONS}}"

# At the end: the lock cycle, marked.
if "$TETHER" viz "$TMP/t.tt" -o "$TMP/end.dot" 2>"$TMP/viz.err"; then
  grep -q 'transfer' "$TMP/end.dot" || fail "end.dot lacks fiber \"transfer\""
  grep -q 'report' "$TMP/end.dot" || fail "end.dot lacks fiber \"report\""
  grep -q 'audit' "$TMP/end.dot" || fail "end.dot lacks mutex \"audit\""
  grep -q 'color="#d00000", penwidth=3' "$TMP/end.dot" || fail "end.dot marks no deadlock"
  # Deterministic: the same trace draws the same DOT.
  "$TETHER" viz "$TMP/t.tt" -o "$TMP/end2.dot" 2>/dev/null
  cmp -s "$TMP/end.dot" "$TMP/end2.dot" || fail "two drawings of one trace differ"
else
  fail "tether viz TRACE failed: $(cat "$TMP/viz.err")"
fi
# At the start: nothing is deadlocked yet.
if "$TETHER" viz "$TMP/t.tt" --at 0 -o "$TMP/start.dot" 2>"$TMP/viz0.err"; then
  ! grep -q 'color="#d00000", penwidth=3' "$TMP/start.dot" || fail "start.dot marks a deadlock at time 0"
else
  fail "tether viz TRACE --at 0 failed: $(cat "$TMP/viz0.err")"
fi
# An SVG too (Graphviz lays it out).
"$TETHER" viz "$TMP/t.tt" -o "$TMP/end.svg" 2>"$TMP/svg.err" || fail "svg: $(cat "$TMP/svg.err")"
grep -q '<svg' "$TMP/end.svg" 2>/dev/null || fail "end.svg is not an SVG"

# Input errors: exit 2, one message naming the file.
"$TETHER" viz "$TMP/t.tt" --at soon -o "$TMP/x.dot" 2>"$TMP/e1"
rc=$?
[[ $rc == 2 ]] || fail "bad --at: expected status 2, got $rc"
grep -q -- "--at" "$TMP/e1" || fail "bad --at: message does not say --at: $(cat "$TMP/e1")"
head -c 20 "$TMP/t.tt" >"$TMP/cut.tt"
"$TETHER" viz "$TMP/cut.tt" -o "$TMP/x.dot" 2>"$TMP/e2"
rc=$?
[[ $rc == 2 ]] || fail "truncated trace: expected status 2, got $rc"
grep -q "cut.tt" "$TMP/e2" || fail "truncated trace: message does not name the file: $(cat "$TMP/e2")"
[[ ! -e "$TMP/x.dot" ]] || fail "an output file was written for bad input"

if [[ ${#FAILS[@]} -eq 0 ]]; then
  echo "PASS trace.viz"
  exit 0
fi
for f in "${FAILS[@]}"; do echo "FAIL: $f"; done
exit 1
