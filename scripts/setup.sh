#!/usr/bin/env bash
# Sets tether up on a fresh Debian 12 machine and runs the main job:
#   1. installs the Debian packages it needs (scripts/deps.sh),
#   2. configures and builds everything in Release into build/ (Ninja),
#   3. runs the main job under `tether run`.
# Safe to run again: each step is quick when already done.
#
# Environment: TETHER_JOBS (parallel build jobs, default 2).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$(pwd)"
jobs="${TETHER_JOBS:-2}"

scripts/deps.sh

echo "setup: configuring build/ (Release)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DTETHER_WERROR=ON
echo "setup: building (-j${jobs})"
cmake --build build -j"${jobs}"

# --- The main job -------------------------------------------------------------
# A bundled program that deadlocks, run under `tether run`: the Delve
# call-injection case from the Go proposal review (a debugger whose event loop
# runs inside its ptrace "syscall server" fiber, testcases/deadlock/programs/
# event_loop.cpp). tether prints the deadlock report with the stacks of the
# fibers involved, exits 66, and draws the wait-for graph to build/wait-graph.svg.
prog=build/testcases/deadlock/programs/event_loop
svg=build/wait-graph.svg
echo
echo "setup: main job: build/cli/tether run --timeout 60s --svg ${svg} -- ${prog}"
status=0
build/cli/tether run --timeout 60s --svg "${svg}" -- "${prog}" || status=$?
if [[ ${status} -eq 66 ]]; then
  echo "setup: tether found the deadlock (exit status 66); wait-for graph: ${root}/${svg}"
  status=0
else
  echo "setup: expected tether to report a deadlock (status 66), got status ${status}" >&2
  status=1
fi
# -------------------------------------------------------------------------------

cat <<INFO

setup: done. Where things are:
  ${root}/build/cli/tether                  the tether command (tether --help)
  ${root}/${svg}                the wait-for graph of the main job's deadlock
  ${root}/build/testcases/programs/demo     a demo that completes (tether run -- build/testcases/programs/demo)
  ${root}/build/                            the Release build (ctest --test-dir build)
  ${root}/README.md                         how to use it; scripts/test.sh runs every test
INFO
exit "${status}"
