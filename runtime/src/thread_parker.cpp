#include "thread_parker.h"

#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>

#include "futex.h"
#include "spin_lock.h"

namespace tether::detail {
std::int64_t now_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

void refresh_coarse_clock() noexcept {
  g_coarse_clock_ns.store(now_ns(), std::memory_order_relaxed);
}

bool ThreadParker::park(std::int64_t spin_ns, std::int64_t timeout_ns) noexcept {
  // Fast path: a permit is there already.
  int s = kNotified;
  if (state_.compare_exchange_strong(s, kEmpty, std::memory_order_acquire)) return true;
  // Spin: consume a permit that soon becomes there.
  std::int64_t spin_start = -1;
  if (spin_ns > 0) {
    if (spin_.max_ns() != spin_ns) spin_ = SpinBudget(spin_ns);
    spin_start = now_ns();
    const std::int64_t until = spin_start + spin_.ns();
    for (unsigned i = 0;; ++i) {
      s = state_.load(std::memory_order_acquire);
      if (s == kNotified && state_.compare_exchange_weak(s, kEmpty, std::memory_order_acquire)) {
        spin_.caught();
        return true;
      }
      cpu_relax();
      if ((i & 15) == 15 && now_ns() >= until) break;
    }
    spin_.missed();
  }
  const std::int64_t deadline = timeout_ns >= 0 ? now_ns() + timeout_ns : -1;
  for (;;) {
    // Announce sleep; a permit that arrived meanwhile is consumed instead.
    woken_at_.store(0, std::memory_order_relaxed);
    sleep_cpu_ = sched_getcpu();  // glibc reads it from rseq: no system call
    if (state_.exchange(kSleeping, std::memory_order_acquire) == kNotified) {
      state_.store(kEmpty, std::memory_order_relaxed);
      return true;
    }
    timespec ts{}, *tsp = nullptr;
    if (deadline >= 0) {
      std::int64_t left = deadline - now_ns();
      if (left <= 0) {
        int s = kSleeping;
        if (state_.compare_exchange_strong(s, kEmpty, std::memory_order_acquire)) return false;
        state_.store(kEmpty, std::memory_order_relaxed);  // it was kNotified
        return true;
      }
      ts.tv_sec = left / 1'000'000'000;
      ts.tv_nsec = left % 1'000'000'000;
      tsp = &ts;
    }
    futex(&state_, FUTEX_WAIT_PRIVATE, kSleeping, tsp);
    int s = state_.load(std::memory_order_acquire);
    if (s == kNotified) {
      state_.store(kEmpty, std::memory_order_relaxed);
      if (spin_start >= 0) spin_.woke_after(remote_wake_delay(spin_start));
      return true;
    }
    // Spurious wake-up or timeout: loop (re-announces sleep, rechecks the deadline).
  }
}

void ThreadParker::unpark() noexcept {
  if (state_.exchange(kNotified, std::memory_order_release) == kSleeping) {
    waker_cpu_.store(sched_getcpu(), std::memory_order_relaxed);
    woken_at_.store(now_ns(), std::memory_order_relaxed);
    futex(&state_, FUTEX_WAKE_PRIVATE, 1, nullptr);
  }
}

std::int64_t ThreadParker::remote_wake_delay(std::int64_t since_ns) const noexcept {
  // Stamps are written after the permit, so a sleeper woken by another
  // event can read none yet (0) or, if it did not sleep, stale ones: both
  // are "not known". Relaxed loads: a heuristic, never a correctness input.
  const std::int64_t at = woken_at_.load(std::memory_order_relaxed);
  const int cpu = waker_cpu_.load(std::memory_order_relaxed);
  if (at <= 0 || at < since_ns || cpu < 0 || sleep_cpu_ < 0 || cpu == sleep_cpu_) return -1;
  return at - since_ns;
}

ThreadParker& ThreadParker::for_this_thread() noexcept {
  static thread_local ThreadParker p;
  return p;
}

}  // namespace tether::detail
