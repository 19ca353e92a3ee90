// Locker: the state behind a ThreadLocker (internal).
#pragma once

#include <atomic>
#include <memory>
#include <source_location>
#include <string>
#include <thread>
#include <vector>

#include "scheduler.h"
#include "spin_lock.h"
#include "sync_object.h"

namespace tether::detail {

struct Locker : SyncObject, std::enable_shared_from_this<Locker> {
  Locker(std::string name, bool is_main, bool os_private, std::source_location site);

  Worker worker;
  const bool is_main;
  const bool os_private;  // lock_os_thread()'s 1:1 locker

  // Membership: members are fibers locked by go()/lock(); occupants also
  // count call() fibers. The thread exits once it had a member, has none
  // left and nothing else runs there.
  SpinLock lk;
  int members = 0;
  int occupants = 0;
  bool had_member = false;
  std::atomic<bool> finished{false};

  std::thread thread;
  std::atomic<bool> exited{false};

  // Throw misuse_error if the locker is finished.
  void admit(bool member, std::source_location site);
  void leave(bool member) noexcept;
  bool should_exit() noexcept;

  static std::shared_ptr<Locker> start(std::string name, bool os_private,
                                       std::source_location site);
};

// A plain thread (no current fiber) blocked in ThreadLocker::call(): it can
// do nothing until `call_fiber` has finished. call() lists itself for the
// wait-for graph from before the call fiber is made runnable until it is
// woken (plain threads only: a fiber's call is its own wait state).
struct PlainCall {
  std::uint64_t thread = 0;      // plain_thread_id()
  int tid = 0;                   // kernel thread id
  std::uint64_t call_fiber = 0;  // the fiber that runs the call
  std::uint64_t locker = 0;      // the locker's thread id
  std::int64_t since_ns = 0;
  std::source_location site;
};
// The plain threads in call() now (a copy, taken under a lock).
std::vector<PlainCall> plain_calls();

}  // namespace tether::detail
