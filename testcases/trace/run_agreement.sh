#!/usr/bin/env bash
# One program of the deadlock corpus, online vs offline:
#   run_agreement.sh TETHER PROG EXPECT COMPARE_PY
# runs PROG under `tether run --timeout 30s --trace T --report R` (with the
# expectation file's `env:` lines), then `tether analyze T --format json`,
# and compares the deadlocks of both (compare.py). A near miss (PROG ends in
# _near) must give no deadlock on either side.
set -uo pipefail
TETHER="${1:?usage: run_agreement.sh TETHER PROG EXPECT COMPARE_PY}"
PROG="${2:?}"
EXPECT="${3:?}"
COMPARE="${4:?}"
NAME="$(basename "$PROG")"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/tether-agree-${NAME}.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT

ENVS=()
if [[ -r "$EXPECT" ]]; then
  while IFS= read -r line || [[ -n "$line" ]]; do
    [[ "$line" =~ ^env:[[:space:]]?(.*)$ ]] && ENVS+=("${BASH_REMATCH[1]}")
  done <"$EXPECT"
fi

env "${ENVS[@]}" "$TETHER" run --timeout 30s --trace "$TMP/trace.tt" --report "$TMP/report.json" \
  -- "$PROG" >"$TMP/run.out" 2>"$TMP/run.err" </dev/null
RUN_RC=$?
if [[ ! -s "$TMP/trace.tt" ]]; then
  echo "FAIL trace.agree.$NAME: no trace written (tether run status $RUN_RC)"
  cat "$TMP/run.err"
  exit 1
fi
"$TETHER" analyze "$TMP/trace.tt" --format json >"$TMP/analyze.json" 2>"$TMP/analyze.err"
AN_RC=$?
if [[ $AN_RC -ne 0 && $AN_RC -ne 1 ]]; then
  echo "FAIL trace.agree.$NAME: tether analyze exited $AN_RC"
  cat "$TMP/analyze.err"
  exit 1
fi
near=0
[[ "$NAME" == *_near ]] && near=1
if python3 "$COMPARE" "$TMP/report.json" "$TMP/analyze.json" "$near"; then
  echo "PASS trace.agree.$NAME (run status $RUN_RC, analyze status $AN_RC)"
  exit 0
fi
{
  echo "FAIL trace.agree.$NAME"
  echo "--- tether run status $RUN_RC; stderr:"; cat "$TMP/run.err"
  echo "--- report:"; cat "$TMP/report.json" 2>/dev/null || echo "(none)"
  echo "--- tether analyze status $AN_RC; stderr:"; cat "$TMP/analyze.err"
  echo "--- analysis (findings):"
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(json.dumps(d.get("findings"), indent=1)[:6000])' "$TMP/analyze.json"
} >&2
exit 1
