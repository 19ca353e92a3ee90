// ObjectRegistry: every live channel, mutex, locker, ... (internal).
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>

#include "spin_lock.h"
#include "sync_object.h"

namespace tether::detail {

class ObjectRegistry {
 public:
  static ObjectRegistry& instance();
  void add(SyncObject* o);  // assigns the id
  void remove(SyncObject* o);
  std::size_t size() const;
  // An id from the same counter, for nodes that are not objects (pool threads).
  std::uint64_t allocate_id();
  // Calls fn(const SyncObject&) for every live object, under the registry's
  // lock. fn may take the objects' locks without revoking their bias.
  template <class F>
  void for_each(F&& fn) const {
    BiasedLockInspection inspecting;
    std::lock_guard lk(mu_);
    for (const SyncObject* o = head_; o; o = o->reg_next_) fn(*o);
  }

 private:
  mutable std::mutex mu_;
  SyncObject* head_ = nullptr;
  std::size_t count_ = 0;
  std::uint64_t next_id_ = 1;
};

}  // namespace tether::detail
