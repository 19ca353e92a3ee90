// tether/rw_mutex.h — a reader/writer lock that parks fibers, not threads.
//
//   tether::RWMutex mu("config");
//   { std::shared_lock r(mu); read(cfg); }      // many readers at once
//   { std::lock_guard w(mu); cfg = next; }      // one writer, no readers
//
// Semantics are Go's sync.RWMutex:
//  - Any number of readers or one writer hold it at a time.
//  - Writers never starve: once a writer waits, new rlock() calls wait too
//    (behind it), so the readers already inside drain and the writer gets in.
//    Consequence, as in Go: a fiber that read-locks recursively can deadlock
//    if a writer arrives between its two rlock() calls.
//  - Readers never starve either: unlock() by a writer admits every reader
//    that queued meanwhile, all at once, before the next writer.
//  - Within readers and within writers the order is FIFO, and the lock is
//    handed off (a woken waiter already holds it; nobody barges in).
//  - It is not tied to the fiber that locked it; unlock() of a lock that is
//    not write-locked and runlock() of one that is not read-locked raise
//    misuse_error.
//
// Waiting fibers record "rwmutex rlock" / "rwmutex lock" with this object's
// id, name and the caller's site. The writer's fiber id and the reading
// fibers' ids (up to kTrackedReaders of them; plain threads are counted but
// have no id) are kept for the deadlock detector.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <source_location>
#include <string>
#include <vector>

namespace tether {

namespace detail {
class RWMutexCore;
}

class RWMutex {
 public:
  static constexpr std::size_t kTrackedReaders = 16;

  explicit RWMutex(std::string name = {},
                   std::source_location site = std::source_location::current());
  ~RWMutex();
  RWMutex(const RWMutex&) = delete;
  RWMutex& operator=(const RWMutex&) = delete;

  // Exclusive (writer) side.
  void lock(std::source_location site = std::source_location::current());
  bool try_lock(std::source_location site = std::source_location::current());
  void unlock(std::source_location site = std::source_location::current());

  // Shared (reader) side. try_rlock fails while a writer holds or waits.
  void rlock(std::source_location site = std::source_location::current());
  bool try_rlock(std::source_location site = std::source_location::current());
  void runlock(std::source_location site = std::source_location::current());

  // SharedLockable spelling, for std::shared_lock.
  void lock_shared(std::source_location site = std::source_location::current()) { rlock(site); }
  bool try_lock_shared(std::source_location site = std::source_location::current()) {
    return try_rlock(site);
  }
  void unlock_shared(std::source_location site = std::source_location::current()) {
    runlock(site);
  }

  // Observers (snapshots) for tests, dumps and the detector.
  bool write_locked() const noexcept;
  std::uint64_t writer() const noexcept;       // writer's fiber id; 0 if none or a plain thread
  std::size_t reader_count() const noexcept;   // readers inside now
  std::vector<std::uint64_t> readers() const;  // fiber ids of (up to kTrackedReaders) readers
  std::uint64_t id() const noexcept;
  const std::string& name() const noexcept;
  detail::RWMutexCore* core() const noexcept { return core_.get(); }

 private:
  std::unique_ptr<detail::RWMutexCore> core_;
};

}  // namespace tether
