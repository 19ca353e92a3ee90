# `tether run` passes the program's exit status and arguments through.
source "$(dirname "$0")/lib.sh" "$@"

run_tether run -- "$CHILD" exit 3
expect_rc 3
expect_no_err

run_tether run "$CHILD" exit 0
expect_rc 0

run_tether run -- "$CHILD" exit 255
expect_rc 255

# Everything after PROG is PROG's, even options that look like tether's.
run_tether run --timeout 30s -- "$CHILD" args --timeout 1s -- "two words"
expect_rc 0
[[ "$OUT" == $'--timeout\n1s\n--\ntwo words' ]] || fail "arguments not passed through: $OUT"

# A generous timeout does not change the status of a quick program.
run_tether run --timeout 60s -- "$CHILD" exit 5
expect_rc 5

# PROG is looked up in PATH like a shell does.
PATH="$(dirname "$CHILD"):$PATH" run_tether run -- "$(basename "$CHILD")" exit 4
expect_rc 4
pass
