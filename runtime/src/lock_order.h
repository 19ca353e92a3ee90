// Lock-order tracking: potential deadlocks found even when a run does not
// hang (internal). Abseil's Mutex deadlock detection and TSan's
// lock-order-inversion report, for fibers.
//
// When on, every Mutex and RWMutex acquisition (write or read) made while the
// same *logical thread* holds other locks adds edges held -> acquired to one
// process-wide LockOrderGraph. An edge that would close a cycle is a
// lock-order inversion: two code paths take the same locks in opposite
// orders, so two fibers running them at the same time can deadlock. Each
// cycle is reported once, on stderr, in TETHER_REPORT_FILE (so `tether run`
// exits 66) and in the JSON report (kind and pattern "lock-order-inversion"),
// with, for every edge of the cycle, the fiber that took it, where it took
// the second lock, where it had taken the first, and its stack at that
// moment (captured once per new edge, when the edge first appears).
//
// A logical thread is a fiber (wherever it migrates: ThreadLocker::lock()
// moves the fiber, its held locks go with it) or a plain thread. A
// ThreadLocker::call() fiber runs on behalf of its caller (a fiber or a plain
// thread, and that caller's own caller, if it is a call() fiber too), which
// waits for it holding its locks: locks taken inside the call are ordered
// after the caller's. ThreadLocker::lock() itself is not a node: a locked thread is
// shared, not owned, and a fiber that parks on a mutex frees it for the
// others (the online detector sees the cases where it does not).
//
// Locks are not tied to fibers (Go's rule): an unlock by another fiber
// removes the lock from the holder's held set. A successful try_lock() adds
// no edge (it cannot wait) but counts as held. A lock taken again while held
// (recursion) adds no edge; the online detector reports a real self-deadlock.
// Nodes are object ids, never addresses; a destroyed lock leaves the graph.
// Cycles are searched up to kMaxCycle locks long.
//
// Cost: the common case takes no process-wide lock. Each logical thread keeps
// its held locks in its own small array (inline, chunks for deep nesting),
// written only by itself; another fiber's unlock finds the holder by a scan
// of every fiber and marks the entry released with a CAS (rare). Each OS
// thread caches the (held, acquired) pairs it has seen in the graph; ids are
// never reused, so a cached pair stays true. Only a pair this thread has not
// seen takes the graph's mutex (and a stack, if the edge is new).
//
// On with TETHER_LOCK_ORDER=1, and under `tether run` (TETHER_UNDER_RUN=1)
// unless TETHER_LOCK_ORDER=0. Read when tether::run starts. Off, each hook
// costs one relaxed load and a predictable branch.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <source_location>

namespace tether::detail {

class SyncObject;
struct Fiber;
struct HeldLocks;  // one logical thread's held locks (lock_order.cpp)

// A fiber's part of the tracker (a member of Fiber). `held` is allocated at
// the fiber's first tracked acquisition and freed with the fiber; `caller`,
// for a call() fiber, is the held set of the logical thread that waits for it
// (which leads on to that thread's own caller, if any).
struct FiberLockOrder {
  FiberLockOrder() = default;
  FiberLockOrder(const FiberLockOrder&) = delete;
  FiberLockOrder& operator=(const FiberLockOrder&) = delete;
  ~FiberLockOrder();
  std::atomic<HeldLocks*> held{nullptr};  // atomic: another fiber's unlock scans it
  const HeldLocks* caller = nullptr;
};

inline constexpr std::size_t kMaxCycle = 10;

extern std::atomic<bool> g_lock_order_on;
inline bool lock_order_on() noexcept { return g_lock_order_on.load(std::memory_order_relaxed); }

// Internal switch (tests): the environment decides again at the next
// tether::run start.
void set_lock_order_tracking(bool on) noexcept;
// Applies TETHER_LOCK_ORDER / TETHER_UNDER_RUN (at the start of tether::run).
void configure_lock_order() noexcept;

// The hooks. Call only when lock_order_on(). `before` runs before a blocking
// acquisition may wait (so an inversion is reported even if this very lock()
// then deadlocks); `acquired` once the lock is held, `released` when it is
// given up (by anyone), `forget` when the lock is destroyed.
// `read`: an RWMutex read lock (reported as such; it orders like a write).
void lock_order_before(const SyncObject& lock, bool read, std::source_location site) noexcept;
void lock_order_acquired(const SyncObject& lock, std::source_location site) noexcept;
void lock_order_released(const SyncObject& lock) noexcept;
void lock_order_forget(std::uint64_t object_id) noexcept;
// ThreadLocker::call(), before its fiber first runs: the calling fiber or
// plain thread (which waits, holding its locks) becomes call_fiber's caller.
void lock_order_call(Fiber& call_fiber) noexcept;

// For tests: inversions reported so far in this process.
std::size_t lock_order_inversions() noexcept;

}  // namespace tether::detail
