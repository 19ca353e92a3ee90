// The runtime's hooks for libtether_preload.so (see preload_bridge.h).
#include "preload_bridge.h"

#include <dlfcn.h>

#include <atomic>
#include <cerrno>
#include <cstdint>

#include "../preload/tether_preload_abi.h"
#include "fd_table.h"
#include "fiber_impl.h"
#include "fiber_registry.h"
#include "scheduler.h"
#include "sync_object.h"
#include "thread_parker.h"
#include "trace_events.h"

namespace tether::detail {
namespace {

// Fibers blocked in pthread_mutex_lock on a mutex their own locked thread
// owns: fiber id -> thread node id. A few slots suffice (each such fiber
// blocks a whole thread); a fiber that finds none full goes unrecorded here
// and its call is then treated as one the outside world can complete.
constexpr int kLockWaitSlots = 64;
struct LockWait {
  std::atomic<std::uint64_t> fiber{0};
  std::atomic<std::uint64_t> thread{0};
};
LockWait g_lock_waits[kLockWaitSlots];

bool claim_lock_wait(std::uint64_t fiber, std::uint64_t thread) noexcept {
  for (LockWait& s : g_lock_waits) {
    std::uint64_t expected = 0;
    if (s.fiber.load(std::memory_order_relaxed) == 0 &&
        s.fiber.compare_exchange_strong(expected, fiber, std::memory_order_acq_rel)) {
      s.thread.store(thread, std::memory_order_release);
      return true;
    }
  }
  return false;
}

void release_lock_wait(std::uint64_t fiber) noexcept {
  for (LockWait& s : g_lock_waits) {
    if (s.fiber.load(std::memory_order_relaxed) == fiber) {
      s.thread.store(0, std::memory_order_relaxed);
      s.fiber.store(0, std::memory_order_release);
      return;
    }
  }
}

FdTable* g_fds = nullptr;  // set before the hooks are registered

// The calling fiber if its wait state may be recorded now.
Fiber* recordable_fiber(Worker* w) noexcept {
  if (!w) return nullptr;
  Fiber* f = w->current;
  if (!f || f->wait.reason() != WaitReason::running) return nullptr;
  return f;
}

int hook_on_fiber() {
  return recordable_fiber(current_worker()) != nullptr;
}

// Records what tether::sys's SyscallScope records. The thread's in-syscall
// mark is written here rather than by enter_syscall(), which would look the
// worker up again and read the precise clock: only the monitor's retake of
// pool threads uses the start time, so a locked thread takes the coarse one
// (this is the hot path of every interposed call a fiber makes).
// The token is the fiber, tagged in bit 0 when it holds a lock-wait slot.
void* hook_enter(const char* call, int fd, unsigned flags, long arg) {
  Worker* w = current_worker();
  Fiber* f = recordable_fiber(w);
  if (!f) return nullptr;
  const int saved = errno;
  const std::int64_t now = coarse_now_ns();
  f->syscall_name.store(call, std::memory_order_relaxed);
  f->syscall_fd.store(fd, std::memory_order_relaxed);
  g_fds->note_use(fd, f->id);
  f->wait.set(WaitStateCell::Value{
      WaitReason::syscall, 0, call, now, {}, (flags & TETHER_PRELOAD_TIMED) != 0});
  w->syscall_since_ns.store(w->kind == Worker::pool ? now_ns() : now, std::memory_order_relaxed);
  w->in_syscall.store(true, std::memory_order_release);
  trace::on_syscall_enter(call, fd, std::source_location{});
  auto token = reinterpret_cast<std::uintptr_t>(f);
  if ((flags & TETHER_PRELOAD_LOCK_OWNER) && arg != 0 && w->kind == Worker::locker_thread &&
      arg == w->tid.load(std::memory_order_relaxed) && claim_lock_wait(f->id, w->thread_id))
    token |= 1;
  errno = saved;
  return reinterpret_cast<void*>(token);
}

void hook_exit(void* token, long result, int err) {
  const auto bits = reinterpret_cast<std::uintptr_t>(token);
  Fiber* f = reinterpret_cast<Fiber*>(bits & ~std::uintptr_t{1});
  const int saved = errno;  // the interposed call's errno must be the real call's
  if (bits & 1) release_lock_wait(f->id);
  // A pool fiber may not resume on the thread it blocked on, but a blocking
  // call never switches: this is still the thread that entered the call.
  if (Worker* w = current_worker()) w->in_syscall.store(false, std::memory_order_release);
  trace::on_syscall_exit(result, err);
  f->wait.set_reason(WaitReason::running, coarse_now_ns());
  f->syscall_fd.store(-1, std::memory_order_relaxed);
  errno = saved;
}

void hook_fd_pair(int a, int b) {
  const int saved = errno;
  trace::on_fd_pair(a, b);
  g_fds->add_pair(a, b, current_fiber_id(), FiberRegistry::instance().peek_next_id());
  errno = saved;
}

void hook_fd_close(int fd) {
  g_fds->forget(fd);
}

const tether_preload_hooks kHooks = {
    TETHER_PRELOAD_ABI_VERSION,
    sizeof(tether_preload_hooks),
    hook_on_fiber,
    hook_enter,
    hook_exit,
    hook_fd_pair,
    hook_fd_close,
};

}  // namespace

bool register_preload_hooks() noexcept {
  // The hooks may run in signal handlers: build what they use now, not on
  // first use (which allocates).
  g_fds = &FdTable::instance();
  FiberRegistry::instance();
  // Found wherever it is loaded: LD_PRELOAD, or linked into the program.
  auto fn =
      reinterpret_cast<tether_preload_register_fn>(dlsym(RTLD_DEFAULT, "tether_preload_register"));
  return fn && fn(&kHooks) == 1;
}

std::uint64_t preload_lock_owner_thread(std::uint64_t fiber) noexcept {
  for (const LockWait& s : g_lock_waits) {
    if (s.fiber.load(std::memory_order_acquire) == fiber)
      return s.thread.load(std::memory_order_acquire);
  }
  return 0;
}

}  // namespace tether::detail
