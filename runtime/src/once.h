// OnceCore: the state behind tether::Once (registered as a SyncObject).
//
// done_ is read without the lock on the fast path (acquire, pairing with the
// release store after fn returned). Everything else is under lock_. The
// runner is identified by fiber id, or by OS thread for a plain thread, so a
// recursive call() can be told apart from a concurrent one.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <source_location>
#include <string>
#include <thread>

#include "mutex.h"  // UserLog
#include "spin_lock.h"
#include "sync_object.h"
#include "waiter.h"

namespace tether::detail {

class OnceCore final : public SyncObject {
 public:
  OnceCore(std::string name, std::source_location site);
  // Leaves the registry before the members go: the detector may be describing it.
  ~OnceCore() override { unregister(); }

  void call(void (*run)(void*), void* fn, std::source_location site);
  bool done() const noexcept { return done_.load(std::memory_order_acquire); }
  std::uint64_t runner() const noexcept { return runner_fiber_.load(std::memory_order_acquire); }
  std::size_t waiter_count() const noexcept;
  void describe(ObjectState& out) const override;

 private:
  void finish(bool ok) noexcept;

  mutable SpinLock lock_{SpinLock::biasable};
  std::atomic<bool> done_{false};
  bool running_ = false;
  std::atomic<std::uint64_t> runner_fiber_{0};
  std::thread::id runner_thread_;  // meaningful when running_ and runner_fiber_ == 0
  WaitQueue waiters_;
  UserLog users_;
};

}  // namespace tether::detail
