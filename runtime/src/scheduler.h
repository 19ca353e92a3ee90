// The scheduler (internal): one Worker per OS thread that runs fibers.
//
// Pool workers (TETHER_PROCS of them, plus spares started while pool threads
// sit in blocking system calls) run fibers that are not locked, stealing
// from each other. Each locker's thread runs one Worker that only runs the
// fibers locked to that locker. A fiber that blocks switches directly to
// the next runnable fiber of its thread when there is one, and to the
// thread's scheduler loop otherwise; whatever must happen after its context
// is saved (release the object's lock, arm a timer, requeue it elsewhere) is
// done on the other side of the switch (Worker::after_switch), so that no
// other thread can resume a fiber whose registers are not saved yet.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "fiber_impl.h"
#include "spin_lock.h"
#include "thread_parker.h"
#include "trace_events.h"
#include "waiter.h"

namespace tether::detail {

struct Locker;

// After this many consecutive runnext picks the queue goes first, so two
// fibers handing work back and forth cannot starve the others.
inline constexpr unsigned kRunnextLimit = 61;

// FIFO of runnable fibers linked through Fiber::next_ready.
class FiberQueue {
 public:
  bool empty() const noexcept { return head_ == nullptr; }
  void push(Fiber* f) noexcept {
    f->next_ready = nullptr;
    (tail_ ? tail_->next_ready : head_) = f;
    tail_ = f;
    ++size_;
  }
  Fiber* pop() noexcept {
    Fiber* f = head_;
    if (f) {
      head_ = f->next_ready;
      if (!head_) tail_ = nullptr;
      f->next_ready = nullptr;
      --size_;
    }
    return f;
  }
  std::size_t size() const noexcept { return size_; }

 private:
  Fiber* head_ = nullptr;
  Fiber* tail_ = nullptr;
  std::size_t size_ = 0;
};

// What the context we switch to must do for the one we left.
struct AfterSwitch {
  enum Kind : std::uint8_t { none, park, requeue, migrate, finish } kind = none;
  Fiber* prev = nullptr;                 // nullptr: we left the scheduler loop
  SpinLock* const* locks = nullptr;      // park: locks to release
  std::size_t nlocks = 0;
  Waiter* waiter = nullptr;              // park with deadline: the waiter to time out
  const Clock::time_point* deadline = nullptr;
};

struct Worker {
  enum Kind : std::uint8_t { pool, locker_thread };
  Worker(Kind kind, std::string name, Locker* locker);

  const Kind kind;
  const std::string name;
  Locker* const locker;  // for locker_thread workers
  std::atomic<int> tid{0};
  std::uint64_t thread_id = 0;  // node id in wait graphs (a locker's object id)

  ctx::fcontext_t sched_ctx = nullptr;
  SanitizerContext sched_san;
  Fiber* current = nullptr;
  AfterSwitch pending;

  // Run queue. `runnext` is the fiber readied last by this thread: it runs
  // next (a request/reply pair stays on one thread, hot in cache).
  SpinLock qlock;
  FiberQueue queue;
  std::atomic<Fiber*> runnext{nullptr};
  std::atomic<std::size_t> queued{0};  // approximate queue length, for thieves
  unsigned runnext_streak = 0;

  ThreadParker parker;
  std::atomic<bool> idle{false};
  std::atomic<bool> in_syscall{false};
  std::atomic<std::int64_t> syscall_since_ns{0};
  // Progress counter, for the stall watchdog. Only the worker's own thread
  // writes it: a plain load and store, not a locked read-modify-write (which
  // costs ~5 ns, twice per request/reply).
  std::atomic<std::uint64_t> switches{0};
  void count_switch() noexcept {
    switches.store(switches.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  // A pool thread's runnext waits behind its running fiber until that fiber
  // switches out; one that never does (a CPU-bound loop) would starve it. So
  // the monitor, seeing a runnext and no switch for a whole tick, stamps the
  // switch count here, and while the count still equals the stamp other pool
  // threads may steal the runnext (Go's sysmon retakes a P for the same
  // reason). Only a comparison on the owner's side: nothing on the hot path.
  std::atomic<std::uint64_t> runnext_stale_at{~std::uint64_t{0}};
  std::uint64_t monitor_seen_switches = 0;  // the monitor's own: the count at its last tick
  bool runnext_stealable() const noexcept {
    return in_syscall.load(std::memory_order_acquire) ||
           switches.load(std::memory_order_relaxed) ==
               runnext_stale_at.load(std::memory_order_relaxed);
  }

  // Scheduling. pick_next(), switch_away() and after_switch() are inline
  // (below), so that park_fiber() is one function with them.
  Fiber* pick_next() noexcept;  // pick_local(), with a locker thread's runnext inline
  Fiber* pick_local() noexcept;
  void push_local(Fiber* f) noexcept;    // from this worker's own thread (inline, below)
  void queue_displaced(Fiber* old) noexcept;  // push_local(): the runnext it replaced
  void push_remote(Fiber* f) noexcept;   // from any other thread
  [[noreturn]] void exit_fiber(Fiber* self) noexcept;
  void switch_out(Fiber* self, const AfterSwitch& after) noexcept;  // pick, pending = after, switch_away()
  // Switches from `self`, the running fiber, to `next` (pick_next()'s) or, if
  // null, to the scheduler loop; `pending` already says what that context
  // must do for `self`. Pick first, then set `pending`: a stack capture
  // retries a thread whose `pending` is set, and pick_next() may spin on a
  // queue lock that a thread the capture already holds has taken.
  void switch_away(Fiber* self, Fiber* next, bool finishing) noexcept;
  void run_fiber(Fiber* f) noexcept;
  void after_switch(ctx::transfer_t t) noexcept;
  void after_switch_slow(const AfterSwitch& a) noexcept;
  void loop();  // the thread's scheduler loop
};

// The calling thread's worker, or nullptr. Read afresh on every call, never
// cached across a switch: a pool fiber may resume on another thread, and a
// compiler may keep a thread-local's address (computed once per function)
// across the switch. On x86-64 an asm statement reads it through %fs each
// time (what initial-exec TLS compiles to, but opaque to the optimizer and a
// compiler barrier); elsewhere the accessor is an out-of-line call.
#if defined(__x86_64__) && defined(__GNUC__)
extern __thread Worker* tls_current_worker __asm__("tether_tls_current_worker")
    __attribute__((tls_model("initial-exec")));
inline Worker* current_worker() noexcept {
  Worker* w;
  asm volatile(
      "movq tether_tls_current_worker@gottpoff(%%rip), %0\n\t"
      "movq %%fs:(%0), %0"
      : "=r"(w)
      :
      : "memory");
  return w;
}
#else
Worker* current_worker() noexcept;
#endif
void set_current_worker(Worker* w) noexcept;

// ---- The switch path, inline (an out-of-line call costs its saved
// registers: ~20 instructions, several times per request/reply). ----

__attribute__((always_inline)) inline Fiber* Worker::pick_next() noexcept {
  // Only a locker's own thread touches its runnext (remote pushes queue).
  if (kind == locker_thread && runnext_streak + 1 < kRunnextLimit) {
    if (Fiber* f = runnext.load(std::memory_order_relaxed)) {
      ++runnext_streak;
      runnext.store(nullptr, std::memory_order_relaxed);
      return f;
    }
  }
  return pick_local();
}

// Into runnext; the fiber that was there goes to the queue.
__attribute__((always_inline)) inline void Worker::push_local(Fiber* f) noexcept {
  Fiber* old;
  if (kind == pool) {
    old = runnext.exchange(f, std::memory_order_acq_rel);
  } else {  // only this thread touches a locker's runnext
    old = runnext.load(std::memory_order_relaxed);
    runnext.store(f, std::memory_order_relaxed);
  }
  if (old) queue_displaced(old);
}

// Runs on the context we switched to: saves the context we left and does
// what it asked for (`pending`).
__attribute__((always_inline)) inline void Worker::after_switch(ctx::transfer_t t) noexcept {
  Fiber* const prev = pending.prev;
  if (prev) {
    prev->ctx = t.fctx;
  } else {
    sched_ctx = t.fctx;
  }
  // A stack capture's signal handler takes a non-empty `pending` (kind or
  // prev set) to mean "a context is not saved yet": clear it only once it is.
  std::atomic_signal_fence(std::memory_order_seq_cst);
  if (pending.kind == AfterSwitch::park && pending.deadline == nullptr) {
    // The common case, a fiber parked on an object: release its locks.
    SpinLock* const* locks = pending.locks;
    const std::size_t n = pending.nlocks;
    pending.kind = AfterSwitch::none;
    pending.prev = nullptr;
    if (n == 1) {
      locks[0]->unlock();
    } else {
      for (std::size_t i = 0; i < n; ++i) locks[i]->unlock();
    }
    return;
  }
  const AfterSwitch a = pending;
  pending = AfterSwitch{};
  if (a.kind != AfterSwitch::none) after_switch_slow(a);
}

__attribute__((always_inline)) inline void Worker::switch_away(Fiber* self, Fiber* next,
                                                              bool finishing) noexcept {
  pending.prev = self;
  count_switch();
  ctx::transfer_t t;
  if (next) {
    current = next;
    trace::on_switch_to(next->id);
    next->worker.store(this, std::memory_order_relaxed);
    next->wait.set_reason(WaitReason::running, coarse_now_ns());
    san_before_switch(self->san, next->san, finishing);
    t = ctx::jump_fcontext(next->ctx, nullptr);
  } else {
    current = nullptr;
    san_before_switch(self->san, sched_san, finishing);
    t = ctx::jump_fcontext(sched_ctx, nullptr);
  }
  // Resumed, possibly on another thread: `this` may not be our worker now.
  Worker* w = current_worker();
  san_after_switch(self->san);
  w->after_switch(t);
}

void cancel_park_timer(Waiter& w, Clock::time_point deadline) noexcept;  // runtime.cpp

// block() (waiter.h) for a fiber: `self`, running on `worker`. Inline, so
// that a channel operation reaches jump_fcontext with no call in between:
// after a switch the return stack buffer holds the other fiber's calls, so
// every return from a frame that was live across the switch mispredicts
// (~20 cycles each, measured as ~15% of a same-thread request/reply).
__attribute__((always_inline)) inline bool park_fiber(Worker* worker, Fiber* self, Waiter& w,
                                                      SpinLock* const* locks, std::size_t n,
                                                      const WaitSite& why,
                                                      const Clock::time_point* deadline) {
  w.fiber = self;
  self->wait.set(WaitStateCell::Value{why.reason, why.object_id, why.object_name, coarse_now_ns(),
                                      why.site, deadline != nullptr});
  Fiber* next = worker->pick_next();  // before `pending` is set (see switch_away())
  trace::on_park(self->id, why.reason, why.object_id, why.site, deadline != nullptr,
                 next ? next->id : 0);
  AfterSwitch& a = worker->pending;   // a stack capture retries from here on
  a.kind = AfterSwitch::park;
  a.locks = locks;
  a.nlocks = n;
  a.waiter = &w;
  a.deadline = deadline;
  worker->switch_away(self, next, false);
  // Woken. A waker claimed w first, or the timer did.
  if (deadline && !w.timed_out) cancel_park_timer(w, *deadline);
  return !w.timed_out;
}

// Creates a fiber (not yet runnable).
Fiber* create_fiber(Task fn, std::string name, std::size_t stack_size,
                    std::source_location site);

// Parks the calling fiber until ready() is called, releasing `after.locks`
// once it is parked. The fiber's wait state must be set by the caller.
void park_current(AfterSwitch after) noexcept;

// Runtime-wide state.
struct RuntimeStats {
  std::uint64_t fibers_created;
  std::uint64_t fibers_alive;
  std::size_t pool_threads;
};
RuntimeStats runtime_stats() noexcept;

// Called by tether::sys wrappers around a call that may block the thread.
void enter_syscall() noexcept;
void exit_syscall() noexcept;

// Spin budgets before an idle thread sleeps (TETHER_SPIN_US, default 10 us).
std::int64_t idle_spin_ns() noexcept;

}  // namespace tether::detail
