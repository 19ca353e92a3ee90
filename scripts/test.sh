#!/usr/bin/env bash
# Runs tether's whole test suite; what CI runs (.ci/run).
#
#   1. deps      scripts/deps.sh
#   2. release   Release build in build/ (-Werror), then `ctest` (every label)
#   3. asan      ASan+UBSan build (-O1 -g) in build-asan/, then `ctest -L 'unit|e2e'`
#   4. tsan      TSan build in build-tsan/ (runtime and cli only), then its unit tests
#                (`ctest -L 'runtime|unit'`: the runtime's and the cli's)
#   5. fuzz      clang-19 libFuzzer build in build-fuzz/ (TETHER_FUZZ=ON: only the fuzz
#                targets and their libraries), then `ctest -L fuzz` (each fuzzer for
#                TETHER_FUZZ_SECONDS, default 10 here, plus its past crashes; docs/fuzzing.md)
#
# Each stage prints one summary line at the end; the last line adds up the
# tests. A failing stage does not stop the later ones (so one run shows every
# problem), but the script exits 1 if any stage failed.
#
# Environment:
#   TETHER_ASAN=0    skip the ASan+UBSan stage      TETHER_TSAN=0   skip the TSan stage
#   TETHER_FUZZ=0    skip the fuzz stage (skipped anyway, with a message, without clang-19)
#   TETHER_JOBS=N    parallel build jobs (default 2; the machine has 2 cores)
#   TETHER_CTEST_JOBS=N  parallel tests (default 1: timing-sensitive runtime tests)
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
jobs="${TETHER_JOBS:-2}"
ctest_jobs="${TETHER_CTEST_JOBS:-1}"
logs="$(mktemp -d "${TMPDIR:-/tmp}/tether-test.XXXXXX")"

summary=()
failed=0
passed_total=0
failed_total=0

# stage NAME CMD...: runs CMD, records "NAME: ok|FAILED (N s)".
stage() {
  local name="$1"
  shift
  local start=$SECONDS
  echo
  echo "=== ${name}: $*"
  if "$@"; then
    summary+=("${name}: ok ($((SECONDS - start)) s)")
    return 0
  fi
  summary+=("${name}: FAILED ($((SECONDS - start)) s)")
  failed=1
  return 1
}

# run_ctest BUILD_DIR LOG [ctest args...]: ctest with output kept for the count.
run_ctest() {
  local dir="$1" log="$2"
  shift 2
  local rc=0
  ctest --test-dir "${dir}" --output-on-failure --no-tests=error -j"${ctest_jobs}" "$@" \
    2>&1 | tee "${log}" || rc=$?
  # "100% tests passed, 0 tests failed out of 42"
  local line
  line="$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "${log}" | tail -1)"
  if [[ -n "${line}" ]]; then
    local nfail nall
    nfail="$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"${line}")"
    nall="$(sed -E 's/.* failed out of ([0-9]+).*/\1/' <<<"${line}")"
    passed_total=$((passed_total + nall - nfail))
    failed_total=$((failed_total + nfail))
  elif ((rc == 0)); then
    rc=1  # ctest said nothing countable: treat as a failure
  fi
  return "${rc}"
}

configure_and_build() {  # DIR cmake-args...
  local dir="$1"
  shift
  cmake -S . -B "${dir}" -G Ninja "$@" && cmake --build "${dir}" -j"${jobs}"
}

stage deps scripts/deps.sh || {
  echo "test: cannot install the dependencies; stopping" >&2
  printf '%s\n' "${summary[@]}"
  exit 1
}

if stage release-build configure_and_build build -DCMAKE_BUILD_TYPE=Release -DTETHER_WERROR=ON; then
  stage release-ctest run_ctest build "${logs}/release.log"
fi

# The sanitizer builds use -O1 -g (RelWithDebInfo's -O2 with -DNDEBUG kept), as
# sanitizer builds usually do: the instrumented code at -O2 took ~30% more
# compile CPU (cli/analyze_command.cpp under ASan+UBSan: 88 s at -O2, 60 s at
# -O1) for no more checking. Full -g stays (the dump tests check function names,
# inlined frames and file:line), but without variable tracking (-fno-var-tracking:
# where a local lives, for a debugger; ~8% of that file's compile time).
san_opt="-O1 -g -fno-var-tracking -DNDEBUG"
san_flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=${san_opt}"
           "-DCMAKE_C_FLAGS_RELWITHDEBINFO=${san_opt}")

if [[ "${TETHER_ASAN:-1}" != 0 ]]; then
  if stage asan-build configure_and_build build-asan "${san_flags[@]}" \
      -DTETHER_WERROR=ON -DTETHER_SANITIZE=address -DTETHER_BUILD_BENCH=OFF; then
    UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:${UBSAN_OPTIONS}}" \
      stage asan-ctest run_ctest build-asan "${logs}/asan.log" -L 'unit|e2e'
  fi
fi

if [[ "${TETHER_TSAN:-1}" != 0 ]]; then
  if stage tsan-build configure_and_build build-tsan "${san_flags[@]}" \
      -DTETHER_WERROR=ON -DTETHER_SANITIZE=thread -DTETHER_BUILD_BENCH=OFF \
      -DTETHER_BUILD_ANALYZER=OFF -DTETHER_BUILD_LINT=OFF -DTETHER_BUILD_VIZ=OFF; then
    stage tsan-ctest run_ctest build-tsan "${logs}/tsan.log" -L 'runtime|unit'
  fi
fi

if [[ "${TETHER_FUZZ:-1}" != 0 ]]; then
  if ! command -v clang-19 >/dev/null || ! command -v clang++-19 >/dev/null; then
    echo
    echo "=== fuzz: skipped: clang-19/clang++-19 not found (scripts/packages.txt lists clang-19)"
    summary+=("fuzz: skipped (no clang-19)")
  else
    fuzz_build() {
      CC=clang-19 CXX=clang++-19 cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
          -DTETHER_WERROR=ON -DTETHER_FUZZ=ON -DTETHER_FUZZ_SECONDS="${TETHER_FUZZ_SECONDS:-10}" &&
        cmake --build build-fuzz -j"${jobs}" --target tether_fuzzers
    }
    if stage fuzz-build fuzz_build; then
      stage fuzz-ctest run_ctest build-fuzz "${logs}/fuzz.log" -L fuzz
    fi
  fi
fi

rm -rf "${logs}"
echo
echo "=== summary"
printf '%s\n' "${summary[@]}"
echo "total: ${passed_total} passed, ${failed_total} failed"
exit "${failed}"
