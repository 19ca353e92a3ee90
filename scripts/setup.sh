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
# Today: the bundled demo, a program with fibers locked to a "GUI" thread and
# pool fibers talking to them over channels, run under `tether run`; it
# finishes and prints its result. Later issues replace this block with a
# deadlocking program whose deadlock report and wait-for SVG are shown here.
echo
echo "setup: main job: build/cli/tether run --timeout 60s -- build/testcases/programs/demo"
status=0
build/cli/tether run --timeout 60s -- build/testcases/programs/demo || status=$?
echo "setup: the demo exited with status ${status}"
# -------------------------------------------------------------------------------

cat <<INFO

setup: done. Where things are:
  ${root}/build/cli/tether                  the tether command (tether --help)
  ${root}/build/testcases/programs/demo     the demo program (source: testcases/programs/demo.cpp)
  ${root}/build/                            the Release build (ctest --test-dir build)
  ${root}/README.md                         how to use it; scripts/test.sh runs every test
INFO
exit "${status}"
