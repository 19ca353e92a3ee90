# `tether run` sets the runtime's environment for the program.
source "$(dirname "$0")/lib.sh" "$@"
unset TETHER_TRACE TETHER_SVG TETHER_PROCS TETHER_UNDER_RUN

run_tether run -- "$CHILD" env
expect_rc 0
# Only the supervision variables: where the runtime reports back, and that it is supervised.
expect_out "^TETHER_UNDER_RUN=1$"
expect_out "^TETHER_REPORT_FILE=/.*/report\.txt$"
expect_out "^TETHER_SNAPSHOT=/.*/snapshot\.json$"
[[ "$(grep -c . <<<"$OUT")" == 3 ]] || fail "unexpected environment: $OUT"

run_tether run --trace out.tt --svg wait.svg --procs 3 -- "$CHILD" env
expect_rc 0
expect_out "^TETHER_PROCS=3$"
# --svg is drawn by tether itself from TETHER_SNAPSHOT: nothing for the program.
if grep -q '^TETHER_SVG=' <<<"$OUT"; then fail "TETHER_SVG set: $OUT"; fi
expect_out "^TETHER_TRACE=out\.tt$"
expect_out "^TETHER_UNDER_RUN=1$"

# The options replace inherited values; other variables are inherited.
TETHER_PROCS=9 TETHER_STACK_KB=128 run_tether run --procs 2 -- "$CHILD" env
expect_out "^TETHER_PROCS=2$"
expect_out "^TETHER_STACK_KB=128$"
pass
