# Helpers for the CLI's end-to-end cases. A case script does:
#   source "$(dirname "$0")/lib.sh" "$@"
#   run_tether run -- "$CHILD" exit 3; expect_rc 3
# and ends with `pass`. Arguments: TETHER CLI_CHILD [EXTRA...].
set -euo pipefail

TETHER="${1:?usage: CASE.sh TETHER CLI_CHILD [EXTRA...]}"
CHILD="${2:?usage: CASE.sh TETHER CLI_CHILD [EXTRA...]}"
EXTRA="${3:-}"
CASE="$(basename "$0" .sh)"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/tether-cli-${CASE}.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
cd "$TMP"
CHECKS=0

fail() {
  echo "FAIL ${CASE}: $*" >&2
  echo "--- last command: ${LAST_CMD:-}" >&2
  echo "--- exit status: ${RC:-}" >&2
  echo "--- stdout:" >&2; cat "$TMP/out" >&2 2>/dev/null || true
  echo "--- stderr:" >&2; cat "$TMP/err" >&2 2>/dev/null || true
  exit 1
}

# run_tether ARGS...: runs tether with stdin closed; sets RC, OUT, ERR.
run_tether() {
  LAST_CMD="tether $*"
  set +e
  "$TETHER" "$@" >"$TMP/out" 2>"$TMP/err" </dev/null
  RC=$?
  set -e
  OUT="$(cat "$TMP/out")"
  ERR="$(cat "$TMP/err")"
}

expect_rc() {
  CHECKS=$((CHECKS + 1))
  [[ "$RC" == "$1" ]] || fail "expected exit status $1, got $RC"
}
expect_out() {  # grep -E pattern on stdout
  CHECKS=$((CHECKS + 1))
  grep -Eq -- "$1" "$TMP/out" || fail "stdout does not match /$1/"
}
expect_err() {  # grep -E pattern on stderr
  CHECKS=$((CHECKS + 1))
  grep -Eq -- "$1" "$TMP/err" || fail "stderr does not match /$1/"
}
expect_no_err() {
  CHECKS=$((CHECKS + 1))
  [[ ! -s "$TMP/err" ]] || fail "expected nothing on stderr"
}
# wait_for_file PATH: up to 30 s.
wait_for_file() {
  for _ in $(seq 300); do
    [[ -e "$1" ]] && return 0
    sleep 0.1
  done
  fail "timed out waiting for $1"
}
now_ms() { date +%s%3N; }
pass() { echo "PASS ${CASE}: ${CHECKS} checks"; }
