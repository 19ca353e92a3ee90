#include "scheduler.h"

#include <pthread.h>

#include <cstdlib>

#include "locker.h"
#include "runtime_state.h"
#include "trace_events.h"

namespace tether::detail {

// initial-exec: a %fs-relative load instead of a __tls_get_addr call (the
// library is position-independent but is not meant to be dlopen'ed).
#if defined(__x86_64__) && defined(__GNUC__)
__thread Worker* tls_current_worker = nullptr;  // read by current_worker() (scheduler.h)
#else
namespace {
thread_local Worker* tls_current_worker __attribute__((tls_model("initial-exec"))) = nullptr;
}  // namespace
Worker* current_worker() noexcept {
  Worker* w = tls_current_worker;
  asm volatile("" ::: "memory");  // not pure: must be re-read after every switch
  return w;
}
#endif
void set_current_worker(Worker* w) noexcept { tls_current_worker = w; }

namespace {

thread_local unsigned tls_pick_tick __attribute__((tls_model("initial-exec"))) = 0;

void fiber_entry(ctx::transfer_t t);
}  // namespace

Fiber* current_fiber() noexcept {
  Worker* w = current_worker();
  return w ? w->current : nullptr;
}

std::int64_t idle_spin_ns() noexcept {
  static const std::int64_t ns = [] {
    std::int64_t us = 10;
    if (const char* e = std::getenv("TETHER_SPIN_US")) {
      char* end = nullptr;
      long v = std::strtol(e, &end, 10);
      if (end != e && *end == '\0' && v >= 0 && v <= 100000) us = v;
    }
    return us * 1000;
  }();
  return ns;
}

Worker::Worker(Kind k, std::string n, Locker* l) : kind(k), name(std::move(n)), locker(l) {}

Fiber* Worker::pick_local() noexcept {
  // Every 61st pick of a pool thread takes from the global queue first (Go's
  // schedtick % 61): fibers readied from outside the pool (a timer, go() on a
  // locker's thread) would otherwise starve behind fibers that keep handing
  // work to each other here (reliability.dump_storm found it).
  if (kind == pool && ++tls_pick_tick % kRunnextLimit == 0) {
    Runtime* rt = runtime();
    if (rt->injected.load(std::memory_order_relaxed) != 0) {
      rt->inject_lock.lock();
      Fiber* f = rt->inject.pop();
      rt->injected.store(rt->inject.size(), std::memory_order_relaxed);
      rt->inject_lock.unlock();
      if (f) return f;
    }
  }
  auto take_runnext = [this]() -> Fiber* {
    if (kind == pool) return runnext.exchange(nullptr, std::memory_order_acquire);
    Fiber* f = runnext.load(std::memory_order_relaxed);
    if (f) runnext.store(nullptr, std::memory_order_relaxed);
    return f;
  };
  const bool queue_first = ++runnext_streak >= kRunnextLimit;
  if (!queue_first) {
    if (Fiber* f = take_runnext()) return f;
  }
  runnext_streak = 0;
  if (queued.load(std::memory_order_relaxed) != 0) {
    qlock.lock();
    Fiber* f = queue.pop();
    if (f) queued.store(queue.size(), std::memory_order_relaxed);
    qlock.unlock();
    if (f) return f;
  }
  return queue_first ? take_runnext() : nullptr;
}

void Worker::queue_displaced(Fiber* old) noexcept {
  qlock.lock();
  queue.push(old);
  queued.store(queue.size(), std::memory_order_relaxed);
  qlock.unlock();
  if (kind == pool) runtime()->wake_idle_worker();
}

void Worker::push_remote(Fiber* f) noexcept {
  qlock.lock();
  queue.push(f);
  queued.store(queue.size(), std::memory_order_relaxed);
  qlock.unlock();
  parker.unpark();
}

namespace {

// Queues a runnable fiber on its home. to_tail: behind everything already
// queued there (yield), instead of next. Inline: ready() is on the wake path.
__attribute__((always_inline)) inline void make_runnable(Fiber* f, bool to_tail) noexcept {
  Worker* self = current_worker();
  if (Locker* l = f->locker.load(std::memory_order_acquire)) {
    Worker* home = &l->worker;
    if (home == self && !to_tail) {
      self->push_local(f);
    } else {
      home->push_remote(f);
    }
    return;
  }
  Runtime* rt = runtime();
  // A yielding pool fiber goes behind everything, the global queue included
  // (Go's Gosched), so it cannot starve fibers readied from other threads.
  if (!to_tail && self && self->kind == Worker::pool &&
      !self->in_syscall.load(std::memory_order_relaxed)) {
    self->push_local(f);
    return;
  }
  rt->inject_fiber(f);
}

__attribute__((always_inline)) inline void make_ready(Fiber* f) noexcept {
  f->wait.set_reason(WaitReason::runnable, coarse_now_ns());
  make_runnable(f, false);
}

}  // namespace

void ready(Fiber* f) noexcept { make_ready(f); }

// Here, not in runtime.cpp, so that ready()'s work inlines into it: a
// request/reply wakes a fiber twice per round trip.
void wake(Waiter& w) noexcept {
  if (Fiber* f = w.fiber) {
    trace::on_unpark(f->id);
    w.woken.store(true, std::memory_order_relaxed);
    make_ready(f);
    return;
  }
  ThreadParker* p = w.parker;
  w.woken.store(true, std::memory_order_release);
  p->unpark();
  w.unparked.store(true, std::memory_order_release);  // the last touch of w and p
}

void Worker::switch_out(Fiber* self, const AfterSwitch& after) noexcept {
  Fiber* next = pick_next();
  pending = after;
  switch_away(self, next, after.kind == AfterSwitch::finish);
}

void Worker::run_fiber(Fiber* f) noexcept {
  pending = AfterSwitch{};
  current = f;
  trace::on_run(f->id);
  f->worker.store(this, std::memory_order_relaxed);
  f->wait.set_reason(WaitReason::running, coarse_now_ns());
  count_switch();
  san_before_switch(sched_san, f->san, false);
  ctx::transfer_t t = ctx::jump_fcontext(f->ctx, nullptr);
  san_after_switch(sched_san);
  after_switch(t);  // the scheduler context never changes threads
}

void finish_fiber(Fiber* f) noexcept;  // fiber.cpp
void arm_timer(Waiter* w, Clock::time_point deadline) noexcept;

// The rest of after_switch() (scheduler.h): `a` was taken out of `pending`.
void Worker::after_switch_slow(const AfterSwitch& a) noexcept {
  switch (a.kind) {
    case AfterSwitch::none:
      break;
    case AfterSwitch::park:
      // Arm the timer before releasing the locks: once they are released a
      // waker may resume the fiber, which then cancels the timer.
      if (a.deadline) arm_timer(a.waiter, *a.deadline);
      for (std::size_t i = 0; i < a.nlocks; ++i) a.locks[i]->unlock();
      break;
    case AfterSwitch::requeue:
      a.prev->wait.set_reason(WaitReason::runnable, coarse_now_ns());
      make_runnable(a.prev, true);
      break;
    case AfterSwitch::migrate:
      trace::on_unpark(a.prev->id, a.prev->id);  // it moves itself to its new thread
      ready(a.prev);
      break;
    case AfterSwitch::finish:
      finish_fiber(a.prev);
      break;
  }
}

void Worker::exit_fiber(Fiber* self) noexcept {
  AfterSwitch a;
  a.kind = AfterSwitch::finish;
  switch_out(self, a);
  __builtin_unreachable();
}

void park_current(AfterSwitch after) noexcept {
  Worker* w = current_worker();
  w->switch_out(w->current, after);
}

void run_fiber_body(Fiber* f) noexcept;  // fiber.cpp

namespace {

void fiber_entry(ctx::transfer_t t) {
  Worker* w = current_worker();
  Fiber* self = w->current;
  san_after_switch(self->san);
  w->after_switch(t);
  run_fiber_body(self);
  current_worker()->exit_fiber(self);
}

}  // namespace

ctx::fcontext_t make_fiber_context(Fiber* f) {
  return ctx::make_fcontext(f->stack.top(), f->stack.size, fiber_entry);
}

// ---- the scheduler loops ----

namespace {

bool locker_should_stop(Worker* w) {
  Runtime* rt = runtime();
  if (w->locker->is_main) return rt->main_done.load(std::memory_order_acquire);
  return rt->stopping.load(std::memory_order_acquire) || w->locker->should_exit();
}

Fiber* find_pool_work(Worker* w) noexcept {
  if (Fiber* f = w->pick_local()) return f;
  Runtime* rt = runtime();
  if (rt->injected.load(std::memory_order_relaxed) != 0) {
    rt->inject_lock.lock();
    Fiber* f = rt->inject.pop();
    rt->injected.store(rt->inject.size(), std::memory_order_relaxed);
    rt->inject_lock.unlock();
    if (f) return f;
  }
  return rt->steal(w);
}

void unregister_idle(Runtime* rt, Worker* w) {
  rt->idle_lock.lock();
  if (w->idle.load(std::memory_order_relaxed)) {
    for (auto it = rt->idle_workers.begin(); it != rt->idle_workers.end(); ++it) {
      if (*it == w) {
        rt->idle_workers.erase(it);
        break;
      }
    }
    w->idle.store(false, std::memory_order_relaxed);
    rt->nidle.fetch_sub(1, std::memory_order_relaxed);
  }
  rt->idle_lock.unlock();
}

void pool_loop(Worker* w) {
  Runtime* rt = runtime();
  const std::int64_t spin = idle_spin_ns();
  SpinBudget budget(spin);  // adapts as the parkers' do (thread_parker.h)
  while (!rt->stopping.load(std::memory_order_acquire)) {
    if (Fiber* f = find_pool_work(w)) {
      w->run_fiber(f);
      continue;
    }
    // One spinner at a time: it catches a reply that is about to arrive.
    std::int64_t spin_start = -1;
    if (spin > 0 && rt->nspinning.fetch_add(1, std::memory_order_acq_rel) == 0) {
      Fiber* found = nullptr;
      spin_start = now_ns();
      const std::int64_t until = spin_start + budget.ns();
      for (unsigned i = 0; !found; ++i) {
        found = find_pool_work(w);
        if (found || ((i & 15) == 15 && now_ns() >= until)) break;
        cpu_relax();
      }
      rt->nspinning.fetch_sub(1, std::memory_order_acq_rel);
      if (!found) budget.missed();
      if (found) {
        budget.caught();
        // More work waiting than this thread can take: let another one look.
        // (Not otherwise: a woken thread that finds nothing spins on a CPU
        // the request/reply partner needs, on a 2-CPU machine above all.)
        if (rt->pool_has_work()) rt->wake_idle_worker();
        w->run_fiber(found);
        continue;
      }
    } else if (spin > 0) {
      rt->nspinning.fetch_sub(1, std::memory_order_acq_rel);
    }
    // Sleep: register as idle, then look once more (no lost wake-up).
    rt->idle_lock.lock();
    rt->idle_workers.push_back(w);
    w->idle.store(true, std::memory_order_relaxed);
    rt->nidle.fetch_add(1, std::memory_order_seq_cst);
    rt->idle_lock.unlock();
    fence(std::memory_order_seq_cst);
    if (Fiber* f = find_pool_work(w)) {
      unregister_idle(rt, w);
      w->run_fiber(f);
      continue;
    }
    if (rt->stopping.load(std::memory_order_acquire)) {
      unregister_idle(rt, w);
      break;
    }
    w->parker.park(0);
    // Woken from another CPU soon after this thread began to wait: a longer
    // spin would have caught the work without a ~50 us cross-CPU wake-up.
    if (spin_start >= 0) budget.woke_after(w->parker.remote_wake_delay(spin_start));
    unregister_idle(rt, w);
  }
}

void locker_loop(Worker* w) {
  const std::int64_t spin = idle_spin_ns();
  for (;;) {
    if (Fiber* f = w->pick_local()) {
      w->run_fiber(f);
      continue;
    }
    if (locker_should_stop(w)) break;
    w->idle.store(true, std::memory_order_relaxed);
    // Remote pushes unpark us; the permit covers a push that raced with this check.
    if (w->queued.load(std::memory_order_acquire) == 0 && !locker_should_stop(w)) {
      w->parker.park(spin);
    }
    w->idle.store(false, std::memory_order_relaxed);
  }
}

}  // namespace

void Worker::loop() {
  sanitizer_thread_context(sched_san);
  if (kind == pool) {
    pool_loop(this);
  } else {
    locker_loop(this);
  }
}

void enter_syscall() noexcept {
  if (Worker* w = current_worker()) {
    w->syscall_since_ns.store(now_ns(), std::memory_order_relaxed);
    w->in_syscall.store(true, std::memory_order_release);
  }
}

void exit_syscall() noexcept {
  if (Worker* w = current_worker()) w->in_syscall.store(false, std::memory_order_release);
}

}  // namespace tether::detail
