// ThreadParker: puts an OS thread to sleep until another thread unparks it.
//
// A binary permit on a futex, like Go's note: unpark() before park() makes
// the next park() return at once. park() first spins for a short while
// (cross-CPU wake-ups cost ~50 us on this class of machine, a spin that
// catches the reply costs a few hundred ns), then sleeps in the kernel. How
// long it spins adapts to whether spinning pays off (SpinBudget).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>

namespace tether::detail {

// How long a thread spins for a wake-up before it sleeps, adapted to whether
// spinning pays off right now.
//
// A spin catches a wake-up only if the waker runs on another CPU meanwhile.
// When the kernel has put both partners of a request/reply on one CPU (or
// the machine is loaded), every spin runs out and only delays the very
// partner it waits for: two threads sharing a CPU each wait out the other's
// window (~29 us per round trip with 10 us windows, where two plain sleeps
// and wake-ups cost a few us). When they run on two CPUs, sleeping instead
// is what costs: waking a thread on an idle CPU takes ~50 us here, a spin
// that catches the reply a few hundred ns.
//
// So: a spin that catches its wake-up doubles the budget, up to the maximum
// (TETHER_SPIN_US); one that runs out cuts it to a quarter, down to a floor
// that still probes (kFloorNs). And after a sleep, the parker tells how the
// wake-up came (ThreadParker::remote_wake_delay): from another CPU, d ns
// after the wait began, means a spin a little longer than d would have
// caught it without delaying the waker, so the budget grows to cover d
// (woke_after). A wake-up from the same CPU, or a later one, teaches
// nothing. glibc's adaptive mutexes do much the same: spin about as long as
// recent waits needed. Owned by one thread: plain fields.
class SpinBudget {
 public:
  static constexpr std::int64_t kFloorNs = 500;

  explicit SpinBudget(std::int64_t max_ns = 0) noexcept : max_(max_ns), ns_(max_ns) {}
  std::int64_t ns() const noexcept { return ns_; }
  std::int64_t max_ns() const noexcept { return max_; }
  void caught() noexcept { ns_ = std::min(max_, std::max(ns_ * 2, floor())); }
  void missed() noexcept { ns_ = std::max(floor(), ns_ / 4); }
  // A sleep was ended from another CPU delay_ns after the wait began.
  void woke_after(std::int64_t delay_ns) noexcept {
    if (delay_ns < 0 || delay_ns > max_) return;
    ns_ = std::min(max_, std::max({ns_ * 2, delay_ns + delay_ns / 2, floor()}));
  }

 private:
  std::int64_t floor() const noexcept { return std::min(max_, kFloorNs); }
  std::int64_t max_;
  std::int64_t ns_;
};

class ThreadParker {
 public:
  // Waits for a permit. spin_ns: the most to spin before sleeping (the
  // parker's SpinBudget decides how much of it). timeout_ns < 0: no
  // timeout. Returns false on timeout. Only the owning thread parks.
  bool park(std::int64_t spin_ns, std::int64_t timeout_ns = -1) noexcept;
  void unpark() noexcept;
  // Whether the thread is asleep in the kernel right now (for statistics/tests).
  bool sleeping() const noexcept { return state_.load(std::memory_order_relaxed) == kSleeping; }
  // After park() returned from a sleep in the kernel: how long after
  // since_ns (a now_ns() time) the unpark() that ended it was issued, if it
  // was issued on another CPU than the one the thread fell asleep on; -1
  // when it was the same CPU, or not known (no sleep, a wake-up not yet
  // stamped). The owning thread asks, right after park() returned.
  std::int64_t remote_wake_delay(std::int64_t since_ns) const noexcept;

  // The calling thread's parker (used for plain threads blocked in tether objects).
  static ThreadParker& for_this_thread() noexcept;

 private:
  static constexpr int kEmpty = 0, kNotified = 1, kSleeping = -1;
  std::atomic<int> state_{kEmpty};
  SpinBudget spin_;  // the parking thread's own
  // Stamped by unpark() when it wakes a sleeper (it is about to make a
  // system call anyway, so two stores cost nothing there), read by the owner.
  std::atomic<std::int64_t> woken_at_{0};
  std::atomic<int> waker_cpu_{-1};
  int sleep_cpu_ = -1;  // the owner's CPU when it last fell asleep
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
