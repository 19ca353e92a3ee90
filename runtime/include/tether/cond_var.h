// tether/cond_var.h — a condition variable for tether::Mutex.
//
//   tether::Mutex mu;  tether::CondVar ready("ready");  bool done = false;
//   { std::unique_lock lk(mu); while (!done) ready.wait(lk); }   // waiter
//   { std::lock_guard g(mu); done = true; } ready.signal();      // waker
//
// Semantics are Go's sync.Cond (plus timed waits): wait() atomically releases
// the mutex and parks the caller; after being woken it re-locks the mutex
// before returning. "Atomically" means a signal() or broadcast() issued by
// anyone who takes the mutex after the waiter released it is guaranteed to
// see that waiter. signal() wakes the oldest waiter, broadcast() all current
// waiters; neither needs the mutex held (holding it is the usual pattern).
// Waking is FIFO and there are no spurious wake-ups, but as with any condition
// variable another fiber may change the state between the wake-up and the
// re-lock: always re-check the condition in a loop (or use the predicate forms).
//
// Timed waits return false when the deadline passed first; a timed-out waiter
// consumes no signal (the signal goes to the next waiter). The mutex is held
// again on return in both cases.
//
// Calling wait() with a Mutex that is not locked raises misuse_error.
// Waiting fibers record "cond wait" with this object's id, name and the site;
// re-locking afterwards is recorded as "mutex lock".
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <source_location>
#include <string>
#include <type_traits>

#include "tether/mutex.h"

namespace tether {

namespace detail {
class CondVarCore;
}

class CondVar {
 public:
  using Clock = std::chrono::steady_clock;

  explicit CondVar(std::string name = {},
                   std::source_location site = std::source_location::current());
  ~CondVar();
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  void wait(Mutex& mu, std::source_location site = std::source_location::current());
  void wait(std::unique_lock<Mutex>& lk,
            std::source_location site = std::source_location::current());
  template <class Pred>
  void wait(std::unique_lock<Mutex>& lk, Pred pred,
            std::source_location site = std::source_location::current()) {
    while (!pred()) wait(lk, site);
  }

  // false: the deadline passed before a signal arrived.
  bool wait_until(Mutex& mu, Clock::time_point deadline,
                  std::source_location site = std::source_location::current());
  template <class C, class D>
  bool wait_until(Mutex& mu, std::chrono::time_point<C, D> deadline,
                  std::source_location site = std::source_location::current()) {
    return wait_until(mu, to_steady(deadline), site);
  }
  template <class C, class D>
  bool wait_until(std::unique_lock<Mutex>& lk, std::chrono::time_point<C, D> deadline,
                  std::source_location site = std::source_location::current()) {
    return wait_until(checked(lk, site), to_steady(deadline), site);
  }
  template <class R, class P>
  bool wait_for(Mutex& mu, std::chrono::duration<R, P> d,
                std::source_location site = std::source_location::current()) {
    return wait_until(mu, deadline_after(d), site);
  }
  template <class R, class P>
  bool wait_for(std::unique_lock<Mutex>& lk, std::chrono::duration<R, P> d,
                std::source_location site = std::source_location::current()) {
    return wait_until(checked(lk, site), deadline_after(d), site);
  }
  // Predicate form: true if pred() held before the deadline.
  template <class R, class P, class Pred>
  bool wait_for(std::unique_lock<Mutex>& lk, std::chrono::duration<R, P> d, Pred pred,
                std::source_location site = std::source_location::current()) {
    const Clock::time_point deadline = deadline_after(d);
    while (!pred()) {
      if (!wait_until(checked(lk, site), deadline, site)) return pred();
    }
    return true;
  }

  void signal(std::source_location site = std::source_location::current());
  void broadcast(std::source_location site = std::source_location::current());
  void notify_one(std::source_location site = std::source_location::current()) { signal(site); }
  void notify_all(std::source_location site = std::source_location::current()) {
    broadcast(site);
  }

  std::size_t waiter_count() const noexcept;  // a snapshot, for tests and dumps
  std::uint64_t id() const noexcept;
  const std::string& name() const noexcept;
  detail::CondVarCore* core() const noexcept { return core_.get(); }

 private:
  template <class C, class D>
  static Clock::time_point to_steady(std::chrono::time_point<C, D> t) {
    if constexpr (std::is_same_v<C, Clock>) {
      return std::chrono::time_point_cast<Clock::duration>(t);
    } else {
      return Clock::now() + std::chrono::ceil<Clock::duration>(t - C::now());
    }
  }
  template <class R, class P>
  static Clock::time_point deadline_after(std::chrono::duration<R, P> d) {
    if (d <= d.zero()) return Clock::now();
    const auto max_wait = Clock::time_point::max() - Clock::now();
    if (d >= max_wait) return Clock::time_point::max();
    return Clock::now() + std::chrono::ceil<Clock::duration>(d);
  }
  // The mutex of a unique_lock that owns it (misuse_error otherwise).
  Mutex& checked(std::unique_lock<Mutex>& lk, std::source_location site);

  std::unique_ptr<detail::CondVarCore> core_;
};

}  // namespace tether
