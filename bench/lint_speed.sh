#!/usr/bin/env bash
# How long `tether lint` takes against `clang++-19 -fsyntax-only` on the same
# files (issue 6: within 1.3x, near-linear with -j 2). Wall time of whole
# processes, so run it on an idle machine, and compare rows of one run only.
#
#   bench/lint_speed.sh [BUILD_DIR]      (default: build)
#
# The files are testcases/lint/'s, from the compile database the build writes
# for them (BUILD_DIR/testcases-lint/compile_commands.json).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build="${1:-build}"
db="${build}/testcases-lint"
lint="${build}/analyzer/lint/tether-lint"
for f in "${db}/compile_commands.json" "${lint}"; do
  [[ -e "${f}" ]] || { echo "lint_speed: ${f}: not found (build first)" >&2; exit 2; }
done
mapfile -t files < <(python3 -c "import json,sys;[print(e['file']) for e in json.load(open(sys.argv[1]))]" \
  "${db}/compile_commands.json")

seconds() {  # CMD...: wall seconds
  local s e
  s=$(date +%s.%N)
  "$@" >/dev/null 2>&1 || true
  e=$(date +%s.%N)
  python3 -c "print(f'{$e - $s:.2f}')"
}
syntax_only() {
  for f in "${files[@]}"; do
    clang++-19 -std=c++20 -Iruntime/include -Itestcases/lint/include -fsyntax-only "${f}"
  done
}
c=$(seconds syntax_only)
j1=$(seconds "${lint}" -p "${db}" -j 1)
j2=$(seconds "${lint}" -p "${db}" -j 2)
echo "files: ${#files[@]} (load average $(cut -d' ' -f1-3 /proc/loadavg))"
echo "clang++-19 -fsyntax-only, one after another: ${c} s"
echo "tether lint -j 1: ${j1} s  ($(python3 -c "print(f'{$j1 / $c:.2f}')")x clang)"
echo "tether lint -j 2: ${j2} s  (speed-up over -j 1: $(python3 -c "print(f'{$j1 / $j2:.2f}')")x)"
