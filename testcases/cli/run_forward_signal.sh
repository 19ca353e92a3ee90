# Signals sent to tether reach the program, which handles them.
source "$(dirname "$0")/lib.sh" "$@"

# forward SIG CODE: the child exits CODE on SIG; we send SIG to tether only.
forward() {
  local sig="$1" code="$2"
  rm -f "$TMP/ready"
  LAST_CMD="tether run -- cli_child trap $sig $code ready (then kill -$sig tether)"
  "$TETHER" run -- "$CHILD" trap "$sig" "$code" "$TMP/ready" >"$TMP/out" 2>"$TMP/err" </dev/null &
  local pid=$!
  wait_for_file "$TMP/ready"
  kill -"$sig" "$pid"
  set +e
  wait "$pid"
  RC=$?
  set -e
  expect_rc "$code"
  expect_err "cli_child: got SIG$sig"
}

forward TERM 42
forward USR1 43
forward HUP 44
forward USR2 45
forward INT 46   # bash starts background jobs with SIGINT ignored: tether still forwards it
forward QUIT 47
pass
