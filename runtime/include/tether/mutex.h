// tether/mutex.h — a mutual-exclusion lock that parks fibers, not threads.
//
//   tether::Mutex mu("accounts");
//   { std::lock_guard g(mu); balance += x; }     // Lockable: lock_guard, unique_lock, scoped_lock
//
// Semantics are Go's sync.Mutex: a Mutex is not tied to the fiber that locked
// it (any fiber or thread may unlock it), it is not recursive (locking it
// again from its holder waits forever, which the deadlock detector reports),
// and unlocking an unlocked Mutex raises misuse_error.
//
// Fairness: strict FIFO with direct handoff. unlock() with waiters gives the
// mutex to the oldest waiter before waking it; a fiber arriving meanwhile
// cannot barge in. Go starts in a barging "normal" mode and only switches to
// handoff ("starvation mode") after a waiter has waited 1 ms, trading fairness
// for throughput. We hand off always because (a) a waiter's wait is bounded by
// the waiters ahead of it, and (b) the holder recorded for the deadlock
// detector is exact at every instant: a woken waiter already owns the mutex,
// so the wait-for graph never shows a lock "held by nobody" while fibers wait.
// The cost is a lock convoy under heavy contention (each handoff waits for the
// next waiter to be scheduled); keep critical sections short.
//
// Blocking in lock() parks the calling fiber and lets its OS thread run other
// fibers (including other fibers locked to the same ThreadLocker); from a
// plain thread it sleeps on a futex. The waiting fiber's state is
// "mutex lock" with this mutex's id, name and the caller's source location.
//
// Note: lock() called through std::lock_guard & co. records the standard
// library's line as the call site; call lock() directly for precise sites.
#pragma once

#include <cstdint>
#include <memory>
#include <source_location>
#include <string>

namespace tether {

namespace detail {
class MutexCore;
}

class Mutex {
 public:
  explicit Mutex(std::string name = {},
                 std::source_location site = std::source_location::current());
  ~Mutex();
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  // Waits (parks) until the mutex is free, then holds it.
  void lock(std::source_location site = std::source_location::current());
  // Takes the mutex if it is free now (and nobody waits for it); never blocks.
  bool try_lock(std::source_location site = std::source_location::current());
  // Releases the mutex, handing it to the oldest waiter if any.
  // Raises misuse_error if the mutex is not locked.
  void unlock(std::source_location site = std::source_location::current());

  // Observers for tests, dumps and the detector; racy by nature (a snapshot).
  bool locked() const noexcept;
  // The fiber id of the holder; 0 when unlocked or held by a plain thread.
  std::uint64_t holder() const noexcept;
  std::uint64_t id() const noexcept;  // object id in dumps, traces and graphs
  const std::string& name() const noexcept;
  detail::MutexCore* core() const noexcept { return core_.get(); }

 private:
  std::unique_ptr<detail::MutexCore> core_;
};

}  // namespace tether
