// futex(): the runtime's own futex system call (internal).
//
// Made with the `syscall` instruction rather than libc's syscall(): the
// preload library (runtime/preload) interposes syscall() to see futex waits
// in user code, and must never see the runtime's own — a thread held in a
// stack-capture signal handler, or a parker waiting for work, would otherwise
// be recorded as its running fiber's "syscall futex()". Async-signal-safe;
// returns -1 and sets errno on failure, like syscall().
#pragma once

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>

namespace tether::detail {

inline long futex(void* addr, int op, std::uint32_t val, const timespec* ts) noexcept {
#if defined(__x86_64__)
  long ret;
  register long r10 asm("r10") = reinterpret_cast<long>(ts);
  register long r8 asm("r8") = 0;
  register long r9 asm("r9") = 0;
  asm volatile("syscall"
               : "=a"(ret)
               : "0"(static_cast<long>(SYS_futex)), "D"(addr), "S"(static_cast<long>(op)),
                 "d"(static_cast<long>(val)), "r"(r10), "r"(r8), "r"(r9)
               : "rcx", "r11", "memory");
  if (ret < 0) {
    errno = static_cast<int>(-ret);
    return -1;
  }
  return ret;
#else
  return syscall(SYS_futex, addr, op, val, ts, nullptr, 0);
#endif
}

// Sleeps while *word == expected, at most timeout_ns (< 0: no limit). Returns
// futex()'s result: -1 with ETIMEDOUT, EAGAIN (the word had changed) or EINTR.
inline long futex_wait(std::atomic<std::uint32_t>* word, std::uint32_t expected,
                       std::int64_t timeout_ns) noexcept {
  timespec ts{timeout_ns / 1'000'000'000, timeout_ns % 1'000'000'000};
  return futex(word, FUTEX_WAIT_PRIVATE, expected, timeout_ns < 0 ? nullptr : &ts);
}

// Wakes every thread sleeping in futex_wait() on word.
inline void futex_wake_all(std::atomic<std::uint32_t>* word) noexcept {
  futex(word, FUTEX_WAKE_PRIVATE, INT32_MAX, nullptr);
}

}  // namespace tether::detail
