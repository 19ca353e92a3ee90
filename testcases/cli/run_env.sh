# `tether run` sets the runtime's environment for the program.
source "$(dirname "$0")/lib.sh" "$@"
unset TETHER_TRACE TETHER_SVG TETHER_PROCS TETHER_UNDER_RUN

run_tether run -- "$CHILD" env
expect_rc 0
[[ "$OUT" == "TETHER_UNDER_RUN=1" ]] || fail "unexpected environment: $OUT"

run_tether run --trace out.tt --svg wait.svg --procs 3 -- "$CHILD" env
expect_rc 0
expect_out "^TETHER_PROCS=3$"
expect_out "^TETHER_SVG=wait\.svg$"
expect_out "^TETHER_TRACE=out\.tt$"
expect_out "^TETHER_UNDER_RUN=1$"

# The options replace inherited values; other variables are inherited.
TETHER_PROCS=9 TETHER_STACK_KB=128 run_tether run --procs 2 -- "$CHILD" env
expect_out "^TETHER_PROCS=2$"
expect_out "^TETHER_STACK_KB=128$"
pass
