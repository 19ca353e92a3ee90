# --timeout: SIGQUIT first (the runtime dumps and exits), SIGKILL after
# --kill-after if the program is still there; exit status 124 either way.
source "$(dirname "$0")/lib.sh" "$@"

start=$(now_ms)
run_tether run --timeout 1s -- "$CHILD" trap QUIT 0 -
took=$(($(now_ms) - start))
expect_rc 124
expect_err "cli_child: got SIGQUIT"
expect_err "timed out after 1s; sent SIGQUIT"
((took >= 900)) || fail "stopped after ${took} ms, before the 1s timeout"
((took < 30000)) || fail "took ${took} ms for a 1s timeout"

start=$(now_ms)
run_tether run --timeout 300ms --kill-after 500ms -- "$CHILD" ignore QUIT -
took=$(($(now_ms) - start))
expect_rc 124
expect_err "then SIGKILL after 500ms"
expect_err "killed by signal 9 \(SIGKILL\)"
((took >= 700)) || fail "SIGKILL came after ${took} ms, before timeout + kill-after"
((took < 30000)) || fail "took ${took} ms"

# --timeout 0 means no timeout.
run_tether run --timeout 0 -- "$CHILD" exit 6
expect_rc 6
pass
