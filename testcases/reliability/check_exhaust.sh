#!/usr/bin/env bash
# check_exhaust.sh EXHAUST_PROG: resource exhaustion (programs/exhaust.cpp).
#   1. a stack mmap that fails (a 2 TiB stack): go() throws std::bad_alloc with
#      a clear message; the program catches it and goes on;
#   2. too many fibers under a low RLIMIT_AS (the program's own address space
#      + 64 MiB, set by prlimit): the same, after hundreds of fibers; once
#      they are released as many fit again;
#   3. the same failure uncaught in a fiber: one "fatal error" line naming
#      the reason, then the process ends by SIGABRT (status 134).
set -uo pipefail
prog="$1"
out="$(mktemp)" err="$(mktemp)"
trap 'rm -f "${out}" "${err}"' EXIT
export TETHER_DETECT_MS=0
# One malloc arena: otherwise each thread that first allocates reserves its own
# 64 MiB of address space, at a moment that varies with the machine's load, and
# the RLIMIT_AS headroom below (measured in a separate run) is not the same.
export MALLOC_ARENA_MAX=1
fail=0
bad() {
  echo "check_exhaust: $*" >&2
  echo "---- stdout ----" >&2; head -c 4000 "${out}" >&2
  echo "---- stderr ----" >&2; head -c 8000 "${err}" >&2
  fail=1
}
msg='tether: cannot allocate a fiber stack of [0-9]+ KiB: [^:]+ failed: '

timeout -s KILL 60 "${prog}" huge >"${out}" 2>"${err}"
status=$?
if [[ ${status} != 0 ]] || ! grep -Eq "^exhaust: go\(\) failed: ${msg}Cannot allocate memory" "${out}" ||
    ! grep -q '^exhaust: still running$' "${out}"; then
  bad "huge: status ${status}"
fi

base_kib="$(timeout -s KILL 60 "${prog}" vmsize)"
if ! [[ "${base_kib}" =~ ^[0-9]+$ ]]; then
  bad "vmsize: not a number: '${base_kib}'"
  exit 1
fi
limit=$(((base_kib + 64 * 1024 + 8 * 1024) * 1024))
if ! command -v prlimit >/dev/null; then
  echo "check_exhaust: prlimit (util-linux) not found: the RLIMIT_AS cases are skipped"
  exit "${fail}"
fi

timeout -s KILL 120 prlimit --as="${limit}" "${prog}" fibers >"${out}" 2>"${err}"
status=$?
n="$(sed -En 's/^exhaust: go\(\) failed after ([0-9]+) fibers: .*/\1/p' "${out}")"
if [[ ${status} != 0 ]] || [[ -z "${n}" ]] || ((n < 100)) ||
    ! grep -Eq "^exhaust: go\(\) failed after [0-9]+ fibers: ${msg}" "${out}" ||
    ! grep -q 'still running$' "${out}"; then
  bad "fibers (RLIMIT_AS ${limit} bytes): status ${status}, ${n:-no} fibers"
fi

timeout -s KILL 120 prlimit --as="${limit}" "${prog}" uncaught >"${out}" 2>"${err}"
status=$?
nfatal="$(grep -c '^fatal error:' "${err}")"
if [[ ${status} != 134 ]] || [[ "${nfatal}" != 1 ]] ||
    ! grep -Eq "^fatal error: uncaught exception in fiber [0-9]+: [^:]+(::[^:]+)*: ${msg}" "${err}"; then
  bad "uncaught: status ${status} (want 134), ${nfatal} fatal lines (want 1)"
fi
((fail)) || echo "check_exhaust: ok (huge stack, ${n} fibers under RLIMIT_AS ${limit} bytes, uncaught)"
exit "${fail}"
