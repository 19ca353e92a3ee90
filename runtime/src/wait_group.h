// WaitGroupCore: the state behind tether::WaitGroup (registered as a SyncObject).
//
// The counter and the FIFO of waiters live under one SpinLock; the counter is
// an atomic only so that observers (count(), the detector) can read it
// without the lock.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <source_location>
#include <string>

#include "mutex.h"  // UserLog
#include "spin_lock.h"
#include "sync_object.h"
#include "waiter.h"

namespace tether::detail {

class WaitGroupCore final : public SyncObject {
 public:
  WaitGroupCore(std::string name, std::source_location site);
  // Leaves the registry before the members go: the detector may be describing it.
  ~WaitGroupCore() override { unregister(); }

  void add(std::int64_t n, std::source_location site);
  void wait(std::source_location site);
  std::int64_t count() const noexcept { return count_.load(std::memory_order_acquire); }
  std::size_t waiter_count() const noexcept;
  void describe(ObjectState& out) const override;

 private:
  mutable SpinLock lock_{SpinLock::biasable};
  std::atomic<std::int64_t> count_{0};
  WaitQueue waiters_;
  UserLog users_;  // who called add/done/wait
};

}  // namespace tether::detail
