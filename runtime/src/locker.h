// Locker: the state behind a ThreadLocker (internal).
#pragma once

#include <atomic>
#include <memory>
#include <source_location>
#include <string>
#include <thread>

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

}  // namespace tether::detail
