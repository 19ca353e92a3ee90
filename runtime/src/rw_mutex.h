// RWMutexCore: the state behind tether::RWMutex (registered as a SyncObject).
//
// Everything is guarded by one SpinLock. Invariants (between operations):
//  - writer_ and readers_ > 0 never both hold;
//  - if nothing holds the lock, both queues are empty (handoff: whoever frees
//    it admits the next waiters before dropping the spin lock);
//  - readers queue only while a writer holds the lock or waits for it.
// Waiter::aux carries the waiter's user id (a fiber's, or a plain thread's
// kPlainThreadTag | N), so that the fiber that hands the lock over can record
// the new holder(s) before waking them.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <source_location>
#include <string>
#include <vector>

#include "mutex.h"  // UserLog
#include "spin_lock.h"
#include "sync_object.h"
#include "tether/rw_mutex.h"
#include "waiter.h"

namespace tether::detail {

class RWMutexCore final : public SyncObject {
 public:
  RWMutexCore(std::string name, std::source_location site);
  // Leaves the registry before the members go: the detector may be describing it.
  ~RWMutexCore() override { unregister(); }

  void lock(std::source_location site);
  bool try_lock() noexcept;
  void unlock(std::source_location site);
  void rlock(std::source_location site);
  bool try_rlock() noexcept;
  void runlock(std::source_location site);

  bool write_locked() const noexcept { return writer_.load(std::memory_order_acquire); }
  std::uint64_t writer() const noexcept { return writer_id_.load(std::memory_order_acquire); }
  std::size_t reader_count() const noexcept { return readers_.load(std::memory_order_acquire); }
  std::vector<std::uint64_t> readers() const;
  std::size_t waiting_writers() const noexcept;
  std::size_t waiting_readers() const noexcept;
  void describe(ObjectState& out) const override;

 private:
  // All under lock_.
  void add_reader(std::uint64_t fiber) noexcept;
  void remove_reader(std::uint64_t fiber) noexcept;
  void grant_writer(Waiter& w) noexcept;  // w popped and claimed; caller wakes it

  mutable SpinLock lock_{SpinLock::biasable};
  std::atomic<bool> writer_{false};
  std::atomic<std::uint64_t> writer_id_{0};
  std::atomic<std::size_t> readers_{0};
  std::array<std::uint64_t, RWMutex::kTrackedReaders> reader_ids_{};
  std::size_t tracked_ = 0;  // valid entries in reader_ids_ (<= readers_)
  WaitQueue waiting_writers_;
  WaitQueue waiting_readers_;
  UserLog users_;
};

}  // namespace tether::detail
