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
# examples/debugger.cpp --broken, under `tether run`: the Delve call-injection
# deadlock from the Go proposal review. A debugger's event loop runs inside
# its ptrace "syscall server" fiber, so when the expression interpreter needs
# a memory read in the middle of `call f(x) + i`, nobody serves it. The
# program prints `print x + i` = 13, then hangs on the call; tether prints the
# deadlock report (a channel cycle: server -> "handled" -> interpreter ->
# "requests" -> server) with the stacks of the fibers involved, writes it as
# JSON to build/deadlock-report.json, draws the wait-for graph to
# build/wait-graph.svg and exits 66. Without --broken the same program works:
# the event loop is a fiber of its own on the ptrace thread (N:1 locking).
prog=build/examples/debugger
svg=build/wait-graph.svg
report=build/deadlock-report.json
rm -f "${svg}" "${report}"
echo
echo "setup: main job: build/cli/tether run --timeout 60s --svg ${svg} --report ${report} -- ${prog} --broken"
status=0
build/cli/tether run --timeout 60s --svg "${svg}" --report "${report}" -- "${prog}" --broken ||
  status=$?
if [[ ${status} -eq 66 && -s "${svg}" && -s "${report}" ]]; then
  echo "setup: tether found the deadlock (exit status 66)"
  echo "setup:   wait-for graph: ${root}/${svg}"
  echo "setup:   JSON report:    ${root}/${report}"
  status=0
else
  echo "setup: expected tether to report a deadlock (status 66) and write ${svg} and" \
    "${report}; got status ${status}" >&2
  status=1
fi
# -------------------------------------------------------------------------------

cat <<INFO

setup: done. Where things are:
  ${root}/build/cli/tether                  the tether command (tether --help)
  ${root}/${svg}                the wait-for graph of the main job's deadlock
  ${root}/build/examples/                   the examples: debugger, gui_main_thread, pipeline
                                            (each works; --broken deadlocks; see examples/*.cpp)
  ${root}/build/                            the Release build (ctest --test-dir build)
  ${root}/README.md                         how to use it; scripts/test.sh runs every test
INFO
exit "${status}"
