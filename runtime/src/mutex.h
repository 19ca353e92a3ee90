// MutexCore: the state behind tether::Mutex (registered as a SyncObject).
//
// Guarded by a SpinLock: `locked_`, `holder_` and the FIFO of waiters. The
// two atomics are written only under the lock and may be read without it by
// observers (detector, dumps), which get a consistent-enough snapshot.
// CondVar uses release() to give up a mutex while holding its own lock.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <source_location>
#include <string>

#include "chan_core.h"  // FiberIdSet
#include "spin_lock.h"
#include "sync_object.h"
#include "waiter.h"

namespace tether::detail {

// Which fibers and plain threads used a sync object (bounded; see
// FiberIdSet), for the deadlock detector's "who could still act on it".
// Guarded by the object's lock; add() is called by the acting thread itself.
class UserLog {
 public:
  // `fiber` is current_fiber_id(): 0 on a plain thread, recorded under the
  // thread's own id (computed only then: fibers pay nothing more).
  // A plain thread's own id (current_user_id()) is recorded as it is.
  void add(std::uint64_t fiber) noexcept { ids_.add(fiber != 0 ? fiber : plain_thread_id()); }
  // With `wakeable_from_outside` (signal-like objects: cond var, wait group,
  // once), more users than remembered marks the object as possibly woken from
  // outside the runtime; plain threads among the users are judged by the
  // detector (one blocked in call() cannot act). Locks leave it off: only
  // their holders can release them, and holders are exact.
  void fill(ObjectState& out, bool wakeable_from_outside) const {
    out.users = ids_.ids();
    if (wakeable_from_outside && ids_.overflowed()) out.used_by_plain_thread = true;
  }

 private:
  FiberIdSet ids_;
};

// Appends the fiber ids (0: plain thread) queued on q to out.waiting.
inline void describe_waiters(const WaitQueue& q, ObjectState& out) {
  q.for_each([&](const Waiter& w) { out.waiting.emplace_back(w.aux, false); });
}

class MutexCore final : public SyncObject {
 public:
  MutexCore(std::string name, std::source_location site);
  // Leaves the registry before the members go: the detector may be describing it.
  ~MutexCore() override { unregister(); }

  void lock(std::source_location site);
  bool try_lock() noexcept;
  void unlock(std::source_location site);
  // unlock() without the misuse check: returns false (changing nothing) if the
  // mutex was not locked.
  bool release() noexcept;

  bool locked() const noexcept { return locked_.load(std::memory_order_acquire); }
  // The holder's user id: a fiber id, or a plain thread's (kPlainThreadTag | N).
  std::uint64_t holder() const noexcept { return holder_.load(std::memory_order_acquire); }
  std::size_t waiter_count() const noexcept;
  void describe(ObjectState& out) const override;

 private:
  mutable SpinLock lock_{SpinLock::biasable};
  std::atomic<bool> locked_{false};
  std::atomic<std::uint64_t> holder_{0};
  WaitQueue waiters_;  // Waiter::aux = the waiter's user id (fiber or plain thread)
  UserLog users_;
};

// The WaitSite a blocking call on `obj` records.
inline WaitSite wait_site_for(const SyncObject& obj, WaitReason reason,
                              std::source_location site) noexcept {
  const std::string& n = obj.object_name();
  return WaitSite{reason, obj.object_id(), n.empty() ? nullptr : n.c_str(), site};
}

// Waiters popped (and claimed) under an object's lock, to be woken after the
// lock is released. A woken fiber may destroy the object at once (the Go idiom
// `wg.Wait(); return` with the WaitGroup on its stack, or "unlock, then delete
// the object that embeds the mutex"), so a waker must not touch the object
// after its first wake(): it collects the waiters here and wakes them last.
class WakeList {
 public:
  void push(Waiter* w) noexcept {
    w->next = nullptr;  // w is off its queue: the link is ours now
    (tail_ ? tail_->next : head_) = w;
    tail_ = w;
  }
  void wake_all() noexcept {
    Waiter* w = head_;
    head_ = tail_ = nullptr;
    while (w) {
      Waiter* next = w->next;  // read before wake(): w may be gone after it
      wake(*w);
      w = next;
    }
  }

 private:
  Waiter* head_ = nullptr;
  Waiter* tail_ = nullptr;
};

// "Mutex \"accounts\" (id 3)": how misuse messages name an object.
inline std::string describe_object(const char* type, const SyncObject& obj) {
  std::string s = type;
  if (!obj.object_name().empty()) s += " \"" + obj.object_name() + "\"";
  return s + " (id " + std::to_string(obj.object_id()) + ")";
}

}  // namespace tether::detail
