// ThreadParker: puts an OS thread to sleep until another thread unparks it.
//
// A binary permit on a futex, like Go's note: unpark() before park() makes
// the next park() return at once. park() first spins for a short while
// (cross-CPU wake-ups cost ~50 us on this class of machine, a spin that
// catches the reply costs a few hundred ns), then sleeps in the kernel.
#pragma once

#include <atomic>
#include <cstdint>

namespace tether::detail {

class ThreadParker {
 public:
  // Waits for a permit. spin_ns: how long to spin before sleeping.
  // timeout_ns < 0: no timeout. Returns false on timeout.
  bool park(std::int64_t spin_ns, std::int64_t timeout_ns = -1) noexcept;
  void unpark() noexcept;
  // Whether the thread is asleep in the kernel right now (for statistics/tests).
  bool sleeping() const noexcept { return state_.load(std::memory_order_relaxed) == kSleeping; }

  // The calling thread's parker (used for plain threads blocked in tether objects).
  static ThreadParker& for_this_thread() noexcept;

 private:
  static constexpr int kEmpty = 0, kNotified = 1, kSleeping = -1;
  std::atomic<int> state_{kEmpty};
};

// Monotonic clock in nanoseconds.
std::int64_t now_ns() noexcept;
// CLOCK_MONOTONIC_COARSE (a few ns to read, ~4 ms resolution): for wait states.
std::int64_t coarse_now_ns() noexcept;

}  // namespace tether::detail
