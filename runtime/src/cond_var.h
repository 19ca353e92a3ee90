// CondVarCore: the state behind tether::CondVar (registered as a SyncObject).
//
// A FIFO of waiters under a SpinLock. wait() enqueues itself and releases the
// user's mutex while holding this lock, so a signal() (which needs this lock)
// cannot slip in between "mutex released" and "waiter queued". Lock order:
// CondVarCore::lock_ before MutexCore::lock_; nothing takes them the other way.
#pragma once

#include <cstddef>
#include <source_location>
#include <string>

#include "mutex.h"
#include "spin_lock.h"
#include "sync_object.h"
#include "waiter.h"

namespace tether::detail {

class CondVarCore final : public SyncObject {
 public:
  CondVarCore(std::string name, std::source_location site);
  // Leaves the registry before the members go: the detector may be describing it.
  ~CondVarCore() override { unregister(); }

  // Releases mu, parks until signalled (or the deadline, if given, passes),
  // re-locks mu. Returns false on timeout.
  bool wait(MutexCore& mu, const Clock::time_point* deadline, std::source_location site);
  void signal() noexcept;
  void broadcast() noexcept;
  std::size_t waiter_count() const noexcept;
  void describe(ObjectState& out) const override;

 private:
  mutable SpinLock lock_{SpinLock::biasable};
  WaitQueue waiters_;
  UserLog users_;  // waiters and signallers
};

}  // namespace tether::detail
