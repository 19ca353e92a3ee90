#!/usr/bin/env bash
# Runs one program of the deadlock corpus and checks it against its
# expectation file.
#
#   run_case.sh run    TETHER PROG EXPECT   # under `tether run --timeout 30s -- PROG`
#   run_case.sh direct TETHER PROG EXPECT   # PROG alone: the runtime's own behaviour
#
# EXPECT holds one check per line (blank lines and '#' comments ignored).
# Lines without a prefix apply to the `run` mode, lines prefixed "direct-"
# to the `direct` mode; "env:" applies to both:
#   env: NAME=VALUE            set for the program
#   status: N                  exit status
#   report: yes|no             whether the runtime appended a report to
#                              TETHER_REPORT_FILE (the runner sets it)
#   stdout-matches: ERE        some line of stdout matches (grep -E)
#   stdout-lacks: ERE          no line of stdout matches
#   stderr-matches: ERE        some line of stderr matches
#   stderr-lacks: ERE          no line of stderr matches
#   stderr-count: N ERE        exactly N lines of stderr match
#   finding: KIND PATTERN [fibers=A,B] [objects=X,Y]
#                              the JSON findings report (`tether run
#                              --report`, docs/report-format.md) holds a
#                              finding of that kind and pattern naming those
#                              fibers and objects (check_report.py checks it,
#                              and the shape of every finding); `run` mode only
#   findings: none             the JSON report holds no finding (`run` mode)
#   snapshot-kinds: K1 K2...   the snapshot JSON the runtime wrote to
#                              TETHER_SNAPSHOT lists deadlocks of exactly these
#                              kinds (any order; "none": no snapshot written).
#                              `direct` mode only: `tether run` owns the file.
# e.g. "direct-status: 2", "direct-stderr-matches: ^fatal error".
#
# `tether run` exits 66 when the runtime wrote a report; it then points
# TETHER_REPORT_FILE at a file of its own, so in `run` mode "report: yes|no"
# is checked as "status is / is not 66". With a `tether run` that predates
# that (its --help does not mention 66), "status: 66" falls back to the
# program's own status ("direct-status:") and the report file the runner
# sets is checked instead; a note says so.
#
# On failure: every failed check, then the command, status, stdout, stderr
# and report file; exit 1.
set -uo pipefail

MODE="${1:?usage: run_case.sh run|direct TETHER PROG EXPECT}"
TETHER="${2:?}"
PROG="${3:?}"
EXPECT="${4:?}"
NAME="$(basename "$PROG")"
[[ "$MODE" == run || "$MODE" == direct ]] || { echo "run_case.sh: bad mode '$MODE'" >&2; exit 2; }
[[ -r "$EXPECT" ]] || { echo "run_case.sh: cannot read $EXPECT" >&2; exit 2; }

TMP="$(mktemp -d "${TMPDIR:-/tmp}/tether-deadlock-${NAME}.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT

ENVS=() CHECKS=() FAILS=() NOTES=()
direct_status=""
lineno=0
while IFS= read -r line || [[ -n "$line" ]]; do
  lineno=$((lineno + 1))
  [[ "$line" =~ ^[[:space:]]*(#|$) ]] && continue
  if [[ ! "$line" =~ ^([a-z-]+):[[:space:]]?(.*)$ ]]; then
    echo "run_case.sh: $EXPECT:$lineno: expected 'key: value', got: $line" >&2
    exit 2
  fi
  key="${BASH_REMATCH[1]}" value="${BASH_REMATCH[2]}"
  case "$key" in
    env) ENVS+=("$value"); continue ;;
    direct-status) direct_status="$value" ;;
  esac
  if [[ "$MODE" == direct ]]; then
    [[ "$key" == direct-* ]] || continue
    key="${key#direct-}"
  else
    [[ "$key" == direct-* ]] && continue
  fi
  case "$key" in
    status | report | stdout-matches | stdout-lacks | stderr-matches | stderr-lacks | stderr-count) ;;
    finding | findings)
      [[ "$MODE" == run ]] || { echo "run_case.sh: $EXPECT:$lineno: $key is for run mode only" >&2; exit 2; } ;;
    snapshot-kinds)
      [[ "$MODE" == direct ]] || { echo "run_case.sh: $EXPECT:$lineno: snapshot-kinds is for direct- lines only" >&2; exit 2; } ;;
    *) echo "run_case.sh: $EXPECT:$lineno: unknown check '$key'" >&2; exit 2 ;;
  esac
  CHECKS+=("$key" "$value" "$lineno")
done <"$EXPECT"
[[ ${#CHECKS[@]} -gt 0 ]] || { echo "run_case.sh: $EXPECT has no checks for mode $MODE" >&2; exit 2; }

REPORT="$TMP/report"
RUN_REPORTS=0  # 1: `tether run` manages the report file and exits 66 on a report
if [[ "$MODE" == run ]] && "$TETHER" run --help 2>&1 | grep -qw 66; then RUN_REPORTS=1; fi
JSON="$TMP/report.json"
CHECKER="$(dirname "${BASH_SOURCE[0]}")/check_report.py"
if [[ "$MODE" == run ]]; then
  CMD=("$TETHER" run --timeout 30s --report "$JSON" -- "$PROG")
else
  CMD=("$PROG")
fi
SNAPSHOT="$TMP/snapshot.json"
env "${ENVS[@]}" TETHER_REPORT_FILE="$REPORT" TETHER_SNAPSHOT="$SNAPSHOT" "${CMD[@]}" >"$TMP/out" 2>"$TMP/err" </dev/null
RC=$?

count_lines() {  # count_lines FILE ERE
  local n
  n="$(grep -cE -- "$2" "$1" 2>/dev/null)"
  echo "${n:-0}"
}

set -- "${CHECKS[@]}"
while [[ $# -gt 0 ]]; do
  key="$1" value="$2" at="$EXPECT:$3"
  shift 3
  case "$key" in
    status)
      want="$value"
      if [[ "$MODE" == run && "$want" == 66 && $RUN_REPORTS == 0 ]]; then
        want="${direct_status:-0}"
        NOTES+=("tether run does not exit 66 on a report yet: expecting the program's own status $want")
      fi
      [[ "$RC" == "$want" ]] || FAILS+=("$at: expected exit status $want, got $RC")
      ;;
    report)
      if [[ $RUN_REPORTS == 1 ]]; then
        if [[ "$value" == yes ]]; then
          [[ "$RC" == 66 ]] || FAILS+=("$at: expected a report (tether run status 66), got status $RC")
        else
          [[ "$RC" != 66 ]] || FAILS+=("$at: expected no report, but tether run exited 66")
        fi
      elif [[ "$value" == yes ]]; then
        [[ -s "$REPORT" ]] || FAILS+=("$at: expected a report in TETHER_REPORT_FILE, none was written")
      else
        [[ ! -s "$REPORT" ]] || FAILS+=("$at: expected no report, but TETHER_REPORT_FILE has one")
      fi
      ;;
    stdout-matches)
      grep -qE -- "$value" "$TMP/out" || FAILS+=("$at: stdout has no line matching: $value")
      ;;
    stdout-lacks)
      ! grep -qE -- "$value" "$TMP/out" || FAILS+=("$at: stdout has a line matching: $value")
      ;;
    stderr-matches)
      grep -qE -- "$value" "$TMP/err" || FAILS+=("$at: stderr has no line matching: $value")
      ;;
    stderr-lacks)
      ! grep -qE -- "$value" "$TMP/err" || FAILS+=("$at: stderr has a line matching: $value")
      ;;
    snapshot-kinds)
      if [[ "$value" == none ]]; then
        [[ ! -s "$SNAPSHOT" ]] || FAILS+=("$at: expected no snapshot, but TETHER_SNAPSHOT was written")
      elif [[ ! -s "$SNAPSHOT" ]]; then
        FAILS+=("$at: expected a snapshot with deadlocks [$value], none was written")
      else
        got="$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(" ".join(sorted(x["kind"] for x in d.get("deadlocks", []))))' "$SNAPSHOT" 2>&1)" ||
          got="unreadable JSON: $got"
        want="$(tr ' ' '\n' <<<"$value" | sort | tr '\n' ' ' | sed 's/ *$//; s/^ *//')"
        [[ "$got" == "$want" ]] || FAILS+=("$at: snapshot deadlock kinds: expected [$want], got [$got]")
      fi
      ;;
    finding | findings)
      # shellcheck disable=SC2086  # the value is a list of arguments
      if [[ "$key" == findings ]]; then args=(none); else read -r -a args <<<"$value"; fi
      if ! out="$(python3 "$CHECKER" --file "$JSON" "${args[@]}" 2>&1)"; then
        FAILS+=("$at: JSON report: ${out//$'\n'/ }")
      fi
      ;;
    stderr-count)
      n="${value%% *}" re="${value#* }"
      got="$(count_lines "$TMP/err" "$re")"
      [[ "$got" == "$n" ]] || FAILS+=("$at: expected $n stderr lines matching '$re', found $got")
      ;;
  esac
done

for note in "${NOTES[@]}"; do echo "note: $note"; done
if [[ ${#FAILS[@]} -eq 0 ]]; then
  echo "PASS deadlock.$NAME ($MODE): $((${#CHECKS[@]} / 3)) checks, status $RC"
  exit 0
fi
{
  echo "FAIL deadlock.$NAME ($MODE)"
  for f in "${FAILS[@]}"; do echo "  $f"; done
  echo "--- command: ${ENVS[*]} ${CMD[*]}"
  echo "--- exit status: $RC"
  echo "--- stdout:"; cat "$TMP/out"
  echo "--- stderr:"; cat "$TMP/err"
  echo "--- report file:"; cat "$REPORT" 2>/dev/null || echo "(none)"
  [[ -s "$JSON" ]] && { echo "--- JSON report:"; cat "$JSON"; }
  [[ -s "$SNAPSHOT" ]] && echo "--- snapshot: $(wc -c <"$SNAPSHOT") bytes (not shown)"
} >&2
exit 1
