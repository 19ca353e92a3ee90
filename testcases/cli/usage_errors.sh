# Usage errors and programs that cannot run: one clear message, exit 2.
source "$(dirname "$0")/lib.sh" "$@"

run_tether run --bogus -- "$CHILD" exit 0
expect_rc 2
expect_err "bogus"

run_tether frobnicate
expect_rc 2
expect_err "frobnicate"

run_tether
expect_rc 2
expect_err "subcommand"

run_tether run
expect_rc 2
expect_err "PROG"

run_tether run --timeout soon -- "$CHILD" exit 0
expect_rc 2
expect_err "invalid duration 'soon'"

run_tether run --timeout -1s -- "$CHILD" exit 0
expect_rc 2

run_tether run --procs 0 -- "$CHILD" exit 0
expect_rc 2
expect_err "procs"

run_tether run -- "$TMP/no-such-program"
expect_rc 2
expect_err "cannot run .*/no-such-program: No such file or directory"
[[ $(wc -l <"$TMP/err") -eq 1 ]] || fail "expected exactly one line on stderr"

run_tether run -- tether-no-such-program-in-path
expect_rc 2
expect_err "tether-no-such-program-in-path: command not found in PATH"

printf 'not a program\n' >"$TMP/data.txt"
chmod 644 "$TMP/data.txt"
run_tether run -- "$TMP/data.txt"
expect_rc 2
expect_err "data\.txt: .*not executable"

run_tether run -- "$TMP"
expect_rc 2
expect_err "is a directory"

# Executable but not a valid program: exec fails in the child.
printf '\x7fELF garbage' >"$TMP/bad"
chmod 755 "$TMP/bad"
run_tether run -- "$TMP/bad"
expect_rc 2
expect_err "cannot run .*/bad: Exec format error"
pass
