# `tether version` and `tether --version` print the CMake project version.
source "$(dirname "$0")/lib.sh" "$@"
version="${EXTRA:?the project version is the third argument}"

run_tether version
expect_rc 0
expect_out "^tether ${version//./\\.}( \(git [^)]+\))?$"
expect_out "^build: "
expect_no_err

run_tether --version
expect_rc 0
expect_out "^tether ${version//./\\.}$"

run_tether version --bogus
expect_rc 2
expect_err "bogus"
pass
