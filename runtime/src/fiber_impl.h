// The runtime's fiber record (internal). Public handle: tether::FiberRef.
#pragma once

#include <boost/context/detail/fcontext.hpp>

#include <atomic>
#include <cstdint>
#include <source_location>
#include <string>

#include "lock_order.h"
#include "sanitizers.h"
#include "spin_lock.h"
#include "stack_pool.h"
#include "tether/task.h"
#include "tether/wait_reason.h"
#include "waiter.h"

namespace tether::detail {

namespace ctx = boost::context::detail;
struct Locker;
struct Worker;

// A fiber's wait state, written by the fiber (or by whoever readies it) and
// read consistently from any thread through a sequence lock.
class WaitStateCell {
 public:
  struct Value {
    WaitReason reason = WaitReason::runnable;
    std::uint64_t object_id = 0;
    const char* object_name = nullptr;
    std::int64_t since_ns = 0;
    std::source_location site{};
    bool timed = false;  // the wait ends by itself at a deadline
    std::uint32_t version = 0;  // read(): changes whenever the state is written
  };
  // Writers: only one at a time (the fiber itself, or whoever readies it while
  // it is parked). Inline: a switch writes two of these.
  void set(const Value& v) noexcept {
    const std::uint32_t s = begin_write();
    reason_.store(v.reason, std::memory_order_relaxed);
    object_id_.store(v.object_id, std::memory_order_relaxed);
    object_name_.store(v.object_name, std::memory_order_relaxed);
    since_ns_.store(v.since_ns, std::memory_order_relaxed);
    site_.store(v.site, std::memory_order_relaxed);
    timed_.store(v.timed, std::memory_order_relaxed);
    seq_.store(s + 2, std::memory_order_release);
  }
  void set_reason(WaitReason r, std::int64_t since_ns) noexcept {
    const std::uint32_t s = begin_write();
    reason_.store(r, std::memory_order_relaxed);
    since_ns_.store(since_ns, std::memory_order_relaxed);
    timed_.store(false, std::memory_order_relaxed);
    seq_.store(s + 2, std::memory_order_release);
  }
  Value read() const noexcept;
  WaitReason reason() const noexcept { return reason_.load(std::memory_order_relaxed); }

 private:
  std::uint32_t begin_write() noexcept {
    const std::uint32_t s = seq_.load(std::memory_order_relaxed);
    seq_.store(s + 1, std::memory_order_relaxed);
    fence(std::memory_order_release);  // the odd count is visible before the fields change
    return s;
  }

  std::atomic<std::uint32_t> seq_{0};
  std::atomic<WaitReason> reason_{WaitReason::runnable};
  std::atomic<std::uint64_t> object_id_{0};
  std::atomic<const char*> object_name_{nullptr};
  std::atomic<std::int64_t> since_ns_{0};
  std::atomic<std::source_location> site_{};
  std::atomic<bool> timed_{false};
};

struct Fiber {
  Fiber(std::uint64_t id, std::string name, std::source_location created_at, std::uint64_t parent,
        Task fn);
  ~Fiber();

  const std::uint64_t id;
  const std::string name;
  const std::source_location created_at;
  const std::uint64_t parent;  // 0: none (fiber 1, or started from a plain thread)

  Task fn;
  ctx::fcontext_t ctx = nullptr;  // saved context while not running
  Stack stack;
  SanitizerContext san;

  // Where the fiber may run: its locker's thread, or (nullptr) any pool thread.
  // Changed only by the fiber itself (lock/unlock) while running.
  std::atomic<Locker*> locker{nullptr};
  Locker* os_locker = nullptr;  // lock_os_thread()'s private locker
  int os_lock_depth = 0;
  // A ThreadLocker::call() fiber: not a member of its locker. Atomic: set
  // once the fiber is registered, and snapshots read every fiber.
  std::atomic<bool> is_call{false};
  FiberLockOrder lock_order;    // held locks for lock-order tracking (lock_order.h)
  std::atomic<bool> abandoned{false};  // still alive when its run() returned: never resumed

  std::atomic<Worker*> worker{nullptr};  // the thread it runs / last ran on
  Fiber* next_ready = nullptr;           // run-queue link

  WaitStateCell wait;
  // While wait.reason() == syscall: which call, on which descriptor (-1: none).
  std::atomic<const char*> syscall_name{nullptr};
  std::atomic<int> syscall_fd{-1};

  // Joining.
  SpinLock join_lock;
  WaitQueue joiners;
  std::atomic<bool> done{false};

  // Registry links (guarded by the fiber registry's mutex).
  Fiber* reg_prev = nullptr;
  Fiber* reg_next = nullptr;

  // References: the runtime holds one until the fiber finishes; each FiberRef one.
  std::atomic<int> refs{1};
  void retain() noexcept { refs.fetch_add(1, std::memory_order_relaxed); }
  void release() noexcept;
};

// Makes a parked fiber runnable: queues it on its locker's thread or on the
// pool. Callable from any thread. The fiber must be parked (its context saved).
void ready(Fiber* f) noexcept;

}  // namespace tether::detail
