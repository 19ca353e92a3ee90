#!/bin/bash
# run_case.sh CASE VICTIM CHECK WORKDIR [TETHER] — the trace writer's reliability cases.
#   crash      SIGSEGV in a fiber: the crash handler writes out every record
#   kill9      kill -9 during heavy tracing: every flushed block reads back
#   full_disk  ulimit -f: one message, tracing stops, the program finishes,
#              and the file holds only complete blocks
# Each trace is read back by trace_check (an independent decoder) and, when
# TETHER is given, by `tether analyze --summary` (trace-reader's TraceReader).
set -u
case_name=$1 victim=$2 check=$3 work=$4 tether=${5:-}
mkdir -p "$work"
out="$work/$case_name.tt"
rm -f "$out" "$work/$case_name".{out,err}
fail() { echo "FAIL [$case_name]: $*"; for f in "$work/$case_name".{out,err}; do [ -f "$f" ] && { echo "--- $f"; tail -20 "$f"; }; done; exit 1; }

case $case_name in
  crash)
    TETHER_TRACE="$out" "$victim" crash >"$work/crash.out" 2>"$work/crash.err"
    st=$?
    [ "$st" -eq 139 ] || fail "expected death by SIGSEGV (status 139), got $st"
    grep -q 'fatal error: SIGSEGV' "$work/crash.err" || fail "no crash report on stderr"
    "$check" "$out" --end no --min-records 2000 --object last-before-crash || fail "trace check"
    ;;
  kill9)
    TETHER_TRACE="$out" "$victim" spin >"$work/kill9.out" 2>"$work/kill9.err" &
    pid=$!
    for _ in $(seq 200); do grep -q ready "$work/kill9.out" 2>/dev/null && break; sleep 0.1; done
    grep -q ready "$work/kill9.out" || { kill -9 $pid; fail "the program did not start"; }
    sleep 1
    kill -9 $pid
    wait $pid 2>/dev/null
    # A block being written at the kill may be torn: allowed at the tail only.
    "$check" "$out" --end no --min-records 1000 --object spin-marker --allow-torn ||
      fail "trace check"
    ;;
  full_disk)
    # 256 KiB of file size (bash counts 1024-byte blocks); the trace needs megabytes.
    (ulimit -f 256; TETHER_TRACE="$out" exec "$victim" big) >"$work/full_disk.out" 2>"$work/full_disk.err"
    st=$?
    [ "$st" -eq 0 ] || fail "the program should go on and exit 0, got $st"
    grep -q '^done$' "$work/full_disk.out" || fail "the program did not finish its work"
    n=$(grep -c "^tether: trace $out: write failed: .*; tracing stopped" "$work/full_disk.err")
    [ "$n" -eq 1 ] || fail "expected one 'write failed ... tracing stopped' line, got $n"
    "$check" "$out" --end no --min-records 100 --object big-marker --max-bytes 262144 ||
      fail "trace check"
    ;;
  *)
    echo "unknown case $case_name"; exit 2 ;;
esac
if [ -n "$tether" ]; then
  [ -x "$tether" ] || fail "$tether is not built (build the tether target, or pass no TETHER)"
  "$tether" analyze "$out" --summary >"$work/$case_name.analyze" 2>&1
  st=$?
  [ "$st" -le 1 ] || { cat "$work/$case_name.analyze"; fail "tether analyze found nothing usable (status $st)"; }
  if [ "$case_name" != kill9 ]; then  # no torn block: every byte must be valid
    grep -Eq '; ([0-9]+) of \1 bytes valid' "$work/$case_name.analyze" ||
      { cat "$work/$case_name.analyze"; fail "tether analyze did not read the whole file"; }
  fi
fi
echo "ok [$case_name]"
