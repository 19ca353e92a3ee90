# --help is complete for the app and for every subcommand, and exits 0.
source "$(dirname "$0")/lib.sh" "$@"

run_tether --help
expect_rc 0
for word in run version "Exit status"; do expect_out "$word"; done

run_tether run --help
expect_rc 0
for word in --timeout --kill-after --trace --svg --procs PROG TETHER_UNDER_RUN TETHER_TRACE \
            TETHER_REPORT_FILE TETHER_SNAPSHOT TETHER_PROCS SIGTERM SIGQUIT SIGUSR1 66 124 "128\+N"; do
  expect_out "$word"
done

run_tether version --help
expect_rc 0
expect_out "Exit status"
pass
