# A program killed by a signal: tether says so and exits 128+signal.
source "$(dirname "$0")/lib.sh" "$@"

run_tether run -- "$CHILD" raise TERM
expect_rc 143
expect_err "killed by signal 15 \(SIGTERM\)"

run_tether run -- "$CHILD" raise KILL
expect_rc 137
expect_err "killed by signal 9 \(SIGKILL\)"

run_tether run -- "$CHILD" raise USR2
expect_rc $((128 + $(kill -l USR2)))
expect_err "\(SIGUSR2\)"
pass
