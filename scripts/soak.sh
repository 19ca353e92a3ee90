#!/usr/bin/env bash
# Soak: a randomized workload (testcases/reliability/programs/soak.cpp) under
# `tether run` with the deadlock detector on, for SOAK_SECONDS (default 600).
# Not part of CI; run it after runtime changes (docs/reliability.md).
#
#   scripts/soak.sh [BUILD_DIR]        (default: build; configured if missing)
#
# Environment: SOAK_SECONDS (default 600), SOAK_SEED (default 8),
#              SOAK_SAMPLE_SECONDS (RSS sampling period, default 5),
#              SOAK_NO_BUILD=1 (use BUILD_DIR's binaries as they are).
# Fails (status 1) on any detector report (every one is a false positive: the
# workload cannot deadlock), a wrong result, a crash, or memory that grows:
# the mean RSS of the last third of the samples above that of the first third
# by more than 25% and 16 MiB. Prints the start and end (UTC, wall seconds,
# load average), rounds, RSS first/middle/last/max and the samples.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build="${1:-build}"
seconds="${SOAK_SECONDS:-600}"
seed="${SOAK_SEED:-8}"
period="${SOAK_SAMPLE_SECONDS:-5}"

if [[ "${SOAK_NO_BUILD:-0}" != 1 ]]; then
  if [[ ! -f "${build}/build.ninja" && ! -f "${build}/Makefile" ]]; then
    cmake -S . -B "${build}" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTETHER_BUILD_BENCH=OFF || exit 2
  fi
  cmake --build "${build}" --target tether reliability_soak || exit 2
fi
tether="${build}/cli/tether"
soak="${build}/testcases/reliability/programs/soak"
[[ -x "${tether}" && -x "${soak}" ]] || { echo "soak: ${tether} or ${soak} missing" >&2; exit 2; }

work="$(mktemp -d "${TMPDIR:-/tmp}/tether-soak.XXXXXX")"
trap 'rm -rf "${work}"' EXIT
echo "soak: ${seconds} s, seed ${seed}, under tether run (detector on), RSS every ${period} s"
echo "soak: start $(date -u '+%Y-%m-%d %H:%M:%S UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg)," \
     "$(nproc) CPUs"
started=${SECONDS}
"${tether}" run --report "${work}/report.json" -- "${soak}" "${seconds}" "${seed}" \
  >"${work}/out" 2>"${work}/err" &
runner=$!

# The workload is tether run's child.
pid=""
for _ in $(seq 1 100); do
  pid="$(pgrep -P "${runner}" -x soak | head -1)"
  [[ -n "${pid}" ]] && break
  sleep 0.1
done
samples=()
if [[ -n "${pid}" ]]; then
  while kill -0 "${pid}" 2>/dev/null; do
    rss="$(awk '/^VmRSS:/ {print $2}' "/proc/${pid}/status" 2>/dev/null)"
    [[ -n "${rss}" ]] && samples+=("${rss}")
    sleep "${period}"
  done
fi
wait "${runner}"
status=$?
echo "soak: end $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $((SECONDS - started)) s wall," \
     "load average $(cut -d' ' -f1-3 /proc/loadavg)"

fail=0
cat "${work}/out"
if ((status != 0)); then
  echo "soak: FAILED: tether run exited with status ${status} (66: the detector reported something)"
  fail=1
fi
# tether run's own warnings (e.g. no preload library in this build) are not findings.
grep -v '^tether run: warning: ' "${work}/err" >"${work}/err.rest"
if [[ -s "${work}/err.rest" ]]; then
  echo "soak: stderr (a report there is a false positive):"
  head -c 20000 "${work}/err.rest"
  fail=1
fi
if [[ -s "${work}/report.json" ]] && grep -q '"kind"' "${work}/report.json"; then
  echo "soak: FAILED: findings in the JSON report:"
  head -c 4000 "${work}/report.json"
  fail=1
fi
grep -q '^soak: [0-9]* rounds ok$' "${work}/out" || { echo "soak: FAILED: no 'rounds ok'"; fail=1; }

n=${#samples[@]}
if ((n >= 3)); then
  read -r first middle last max third_a third_b <<<"$(printf '%s\n' "${samples[@]}" | awk '
    { v[NR] = $1; if ($1 > max) max = $1 }
    END {
      k = int(NR / 3); if (k < 1) k = 1
      for (i = 1; i <= k; i++) a += v[i]
      for (i = NR - k + 1; i <= NR; i++) b += v[i]
      printf "%d %d %d %d %d %d\n", v[1], v[int((NR + 1) / 2)], v[NR], max, a / k, b / k
    }')"
  echo "soak: RSS first ${first} KiB, middle ${middle} KiB, last ${last} KiB, max ${max} KiB" \
       "(${n} samples; mean of first third ${third_a} KiB, last third ${third_b} KiB)"
  echo "soak: RSS samples (KiB): ${samples[*]}"
  limit=$((third_a + third_a / 4 > third_a + 16384 ? third_a + third_a / 4 : third_a + 16384))
  if ((third_b > limit)); then
    echo "soak: FAILED: memory grows (last third ${third_b} KiB > ${limit} KiB)"
    fail=1
  fi
else
  echo "soak: only ${n} RSS samples: run longer for a memory verdict"
fi
((fail)) && exit 1
echo "soak: ok"
