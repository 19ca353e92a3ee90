// Runtime: the state of one tether::run() (internal).
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "deadlock_watchdog.h"
#include "fiber_impl.h"
#include "scheduler.h"
#include "spin_lock.h"

namespace tether::detail {

struct Locker;

// Timers of fibers and threads waiting with a deadline, and the pool's
// system-call watchdog; served by one monitor thread.
class Monitor {
 public:
  void start();
  void stop();
  // Arms w's deadline; when it passes and w can still be claimed, w is woken
  // with timed_out set.
  void add_timer(Waiter* w, Clock::time_point deadline);
  // Removes w's timer; after it returns the monitor no longer touches w.
  void cancel_timer(Waiter* w, Clock::time_point deadline);

 private:
  void loop();
  void check_syscalls(std::int64_t now);
  void check_starved_runnext();  // see Worker::runnext_stale_at
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<std::pair<Clock::time_point, Waiter*>> timers_;
  bool stop_ = false;
  std::thread thread_;
};

struct Runtime {
  static constexpr std::size_t kMaxPool = 512;

  int procs = 1;
  std::array<std::atomic<Worker*>, kMaxPool> pool{};
  std::atomic<std::size_t> npool{0};
  std::mutex pool_mu;  // guards spawning and the thread list
  std::vector<std::thread> pool_threads;
  std::vector<std::unique_ptr<Worker>> pool_owned;

  SpinLock inject_lock;
  FiberQueue inject;
  std::atomic<std::size_t> injected{0};

  std::atomic<int> nspinning{0};
  std::atomic<int> nidle{0};
  SpinLock idle_lock;
  std::vector<Worker*> idle_workers;

  std::atomic<bool> stopping{false};
  std::atomic<bool> main_done{false};
  std::shared_ptr<Locker> main_locker;
  std::exception_ptr main_exception;
  std::uint64_t main_fiber_id = 0;

  std::mutex lockers_mu;
  std::vector<std::shared_ptr<Locker>> lockers;  // started during this run

  Monitor monitor;
  DeadlockWatchdog watchdog;
  std::atomic<int> threads_exited{0};

  void start_pool_worker();  // pool_mu held
  void inject_fiber(Fiber* f) noexcept;
  // wakep: wake one idle pool thread if none spins (or even if one does).
  void wake_idle_worker(bool even_if_spinning = false) noexcept;
  Fiber* steal(Worker* thief) noexcept;
  bool pool_has_work() const noexcept;
};

// The runtime of the current tether::run(), or nullptr.
Runtime* runtime() noexcept;

}  // namespace tether::detail
