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
// A cheap clock for wait states ("since when"): CLOCK_MONOTONIC as last
// published by the runtime's monitor thread, which refreshes it every
// millisecond or so while the runtime runs (so ~1-10 ms resolution). One
// relaxed load: the fiber switch path reads it several times per switch.
inline std::atomic<std::int64_t> g_coarse_clock_ns{0};
inline std::int64_t coarse_now_ns() noexcept {
  return g_coarse_clock_ns.load(std::memory_order_relaxed);
}
// Refreshes it (the monitor does, and run() at start).
void refresh_coarse_clock() noexcept;

}  // namespace tether::detail
