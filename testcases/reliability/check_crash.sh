#!/usr/bin/env bash
# check_crash.sh CRASH_PROG MODE [EXPECT_MODE]
# Runs `CRASH_PROG MODE` (programs/crash.cpp) and checks what a crash in a
# fiber must produce (docs/reliability.md): exactly one "fatal error" line of
# the right form, one complete dump (every fiber, Go layout, "fibers: N" equal
# to the headers that follow), the crashing fiber shown running in its user
# code, and death by the documented signal. EXPECT_MODE (default MODE) lets
# the self-test check one crash against another's expectations.
set -uo pipefail
prog="$1" mode="$2" expect="${3:-$2}"
out="$(mktemp)"
trap 'rm -f "${out}"' EXIT
TETHER_DETECT_MS=0 timeout -s KILL 60 "${prog}" "${mode}" 2>"${out}" >/dev/null
status=$?
fail=0
bad() {
  echo "check_crash: ${mode}: $*" >&2
  fail=1
}
has() {  # has REGEX WHAT
  grep -Eq -- "$1" "${out}" || bad "missing $2 (/$1/)"
}

case "${expect}" in
  segv)
    want_status=139
    line='^fatal error: SIGSEGV: segmentation violation addr=0x10 pc=0x[0-9a-f]+ in fiber [0-9]+ on thread "pool-[0-9]+"$'
    user='segv_in_user_code' ;;
  exception)
    want_status=134
    line='^fatal error: uncaught exception in fiber [0-9]+: std::runtime_error: boom$'
    user='' ;;
  abort)
    want_status=134
    line='^fatal error: SIGABRT: abort pc=0x[0-9a-f]+ in fiber [0-9]+ on thread "gl"$'
    user='' ;;
  overflow)
    want_status=139
    line='^fatal error: stack overflow in fiber [0-9]+ "crasher" \(stack size 256 KiB\) on thread "pool-[0-9]+"$'
    user='recurse_in_user_code' ;;
  *) echo "check_crash: unknown mode ${expect}" >&2; exit 2 ;;
esac

[[ "${status}" == "${want_status}" ]] || bad "exit status ${status}, want ${want_status} (128 + signal)"
nfatal="$(grep -c '^fatal error:' "${out}")"
[[ "${nfatal}" == 1 ]] || bad "${nfatal} 'fatal error:' lines, want exactly 1"
has "${line}" "the fatal error line"
ndumps="$(grep -c '^tether: fiber dump of process ' "${out}")"
[[ "${ndumps}" == 1 ]] || bad "${ndumps} dumps, want 1"
announced="$(sed -n 's/^fibers: \([0-9]*\)$/\1/p' "${out}" | head -1)"
headers="$(grep -Ec '^fiber [0-9]+ ("[^"]*" )?\[[^]]*\]:$' "${out}")"
[[ "${announced}" == 5 ]] || bad "'fibers: ${announced}', want 5 (main + 4)"
[[ "${headers}" == "${announced}" ]] || bad "${headers} fiber headers, 'fibers: ${announced}' announced"
has '^fiber 1 "main" \[join' "fiber 1 waiting in join"
has '^fiber [0-9]+ "receiver" \[chan receive[^]]*chan [0-9]+ "never"' "the receiver"
has '^fiber [0-9]+ "waiter" \[mutex lock' "the mutex waiter"
has '^fiber [0-9]+ "gl-sleeper" \[sleep[^]]*locked to thread "gl"\]:$' "the locked sleeper"
has '^fiber [0-9]+ "crasher" \[running' "the crasher, running"
# Every fiber but fiber 1 says where it was created; every header has frames.
created="$(grep -c '^created by fiber 1 at .*crash.cpp:[0-9]*$' "${out}")"
[[ "${created}" == 4 ]] || bad "${created} 'created by fiber 1 at crash.cpp:N' lines, want 4"
if [[ -n "${user}" ]]; then
  grep -A1 '"crasher" \[running' "${out}" | grep -q "${user}" ||
    bad "the crasher's first frame is not ${user}"
fi
if [[ "${expect}" != exception ]]; then
  has '^  thread "[^"]*" tid [0-9]+: running fiber [0-9]+ \(crashed\)$' "the crashed thread"
fi
if ((fail)); then
  echo "---- output of ${prog} ${mode} ----" >&2
  head -c 20000 "${out}" >&2
  exit 1
fi
echo "check_crash: ${mode}: ok (status ${status}, ${headers} fibers dumped)"
