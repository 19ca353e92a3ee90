// Helpers shared by the sync primitives' tests (mutex, rw_mutex, cond_var,
// wait_group, once): waiting for a condition without blocking the OS thread,
// a watchdog that turns a hang into a clear failure, and a fiber's wait state.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <thread>

#include "fiber_impl.h"
#include "fiber_registry.h"
#include "tether/fiber.h"

namespace tether_test {

// Lets others run: yields the fiber, or the thread outside a fiber.
inline void pause() {
  if (tether::this_fiber::id() != 0) {
    tether::this_fiber::yield();
  } else {
    std::this_thread::yield();
  }
}

// Pauses until pred() holds; false if it did not within `limit`.
template <class P>
bool eventually(P pred, std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    pause();
  }
  return true;
}

// Keeps pausing for `d` (lets any wrongly woken fiber show itself).
inline void settle(std::chrono::milliseconds d = std::chrono::milliseconds(50)) {
  const auto until = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < until) pause();
}

// Aborts the test binary with a message if the scope is not left within `limit`.
class Watchdog {
 public:
  explicit Watchdog(const char* what, std::chrono::seconds limit = std::chrono::seconds(60))
      : t_([this, what, limit] {
          std::unique_lock lk(mu_);
          if (!cv_.wait_for(lk, limit, [this] { return done_; })) {
            std::fprintf(stderr, "watchdog: %s did not finish within %llds (deadlock?)\n", what,
                         static_cast<long long>(limit.count()));
            std::abort();
          }
        }) {}
  ~Watchdog() {
    {
      std::lock_guard lk(mu_);
      done_ = true;
    }
    cv_.notify_one();
    t_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread t_;
};

// The wait state of a live fiber, or nullopt.
inline std::optional<tether::detail::WaitStateCell::Value> wait_state_of(std::uint64_t fiber) {
  std::optional<tether::detail::WaitStateCell::Value> out;
  tether::detail::FiberRegistry::instance().for_each([&](tether::detail::Fiber& f) {
    if (f.id == fiber) out = f.wait.read();
  });
  return out;
}

}  // namespace tether_test
