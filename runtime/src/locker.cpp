// ThreadLocker: N fibers locked to one OS thread; lock_os_thread (1:1).
#include "locker.h"

#include <fmt/format.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <mutex>
#include <optional>
#include <stdexcept>

#include "fiber_impl.h"
#include "runtime_state.h"
#include "stack_capture.h"
#include "tether/thread_locker.h"
#include "trace_events.h"

namespace tether::detail {

Fiber* create_fiber(Task fn, std::string name, std::size_t stack_size,
                    std::source_location site);  // fiber.cpp

Locker::Locker(std::string n, bool main, bool os_priv, std::source_location site)
    : SyncObject(ObjectKind::locker, n, site),
      worker(Worker::locker_thread, std::move(n), this),
      is_main(main),
      os_private(os_priv) {
  worker.thread_id = object_id();
}

void Locker::admit(bool member, std::source_location site) {
  lk.lock();
  if (finished.load(std::memory_order_relaxed)) {
    lk.unlock();
    throw_misuse(fmt::format("thread \"{}\" is finished: its last locked fiber has left",
                             worker.name),
                 site);
  }
  ++occupants;
  if (member) {
    ++members;
    had_member = true;
  }
  lk.unlock();
}

void Locker::leave(bool member) noexcept {
  lk.lock();
  --occupants;
  if (member && --members == 0 && !is_main) finished.store(true, std::memory_order_release);
  const bool exit_now = finished.load(std::memory_order_relaxed) && occupants == 0;
  lk.unlock();
  if (exit_now) worker.parker.unpark();
}

bool Locker::should_exit() noexcept {
  lk.lock();
  const bool r = finished.load(std::memory_order_relaxed) && occupants == 0;
  lk.unlock();
  return r;
}

std::shared_ptr<Locker> Locker::start(std::string name, bool os_private,
                                      std::source_location site) {
  Runtime* rt = runtime();
  if (!rt) throw std::logic_error("tether::ThreadLocker::make called outside tether::run");
  auto l = std::make_shared<Locker>(std::move(name), false, os_private, site);
  Locker* lp = l.get();
  {
    std::lock_guard lk(rt->lockers_mu);
    // Reap lockers whose threads have exited: an exited thread keeps its
    // stack until joined, so a program that makes lockers over and over
    // would run out of memory and threads (scripts/soak.sh found it). The
    // shutdown count in run_main compares threads_exited with the lockers
    // still listed: a reaped one leaves both.
    std::erase_if(rt->lockers, [rt](const std::shared_ptr<Locker>& old) {
      if (!old->exited.load(std::memory_order_acquire) || !old->thread.joinable()) return false;
      old->thread.join();
      rt->threads_exited.fetch_sub(1, std::memory_order_acq_rel);
      return true;
    });
    rt->lockers.push_back(l);
  }
  lp->thread = std::thread([rt, lp] {
    set_current_worker(&lp->worker);
    lp->worker.tid.store(static_cast<int>(syscall(SYS_gettid)), std::memory_order_relaxed);
    pthread_setname_np(pthread_self(), lp->worker.name.substr(0, 15).c_str());
    register_worker_thread(&lp->worker);
    lp->worker.loop();
    unregister_worker_thread();
    lp->finished.store(true, std::memory_order_release);
    set_current_worker(nullptr);
    lp->exited.store(true, std::memory_order_release);
    rt->threads_exited.fetch_add(1, std::memory_order_release);
  });
  return l;
}

namespace {

Fiber* require_fiber(const char* what, std::source_location site) {
  Fiber* f = current_fiber();
  if (!f) throw_misuse(fmt::format("{} called outside a fiber", what), site);
  return f;
}

void lock_to(Fiber* f, Locker* l, std::source_location site) {
  if (Locker* cur = f->locker.load(std::memory_order_relaxed)) {
    throw_misuse(fmt::format("lock() while already locked to thread \"{}\"", cur->worker.name),
                 site);
  }
  l->admit(true, site);
  f->locker.store(l, std::memory_order_release);
  f->wait.set(WaitStateCell::Value{WaitReason::waiting_for_thread, l->object_id(),
                                   l->object_name().c_str(), coarse_now_ns(), site});
  trace::on_park(f->id, WaitReason::waiting_for_thread, l->object_id(), site, false);
  AfterSwitch a;
  a.kind = AfterSwitch::migrate;
  park_current(a);
  trace::on_thread_lock(f->id, l->worker.thread_id, l->object_id());
}

void unlock_from(Fiber* f, Locker* l, std::source_location site) {
  Locker* cur = f->locker.load(std::memory_order_relaxed);
  if (cur != l) {
    throw_misuse(cur ? fmt::format("unlock() of thread \"{}\" while locked to thread \"{}\"",
                                   l->worker.name, cur->worker.name)
                     : fmt::format("unlock() of thread \"{}\" when not locked", l->worker.name),
                 site);
  }
  if (f->is_call.load(std::memory_order_relaxed))
    throw_misuse("unlock() inside ThreadLocker::call()", site);
  f->locker.store(nullptr, std::memory_order_release);
  f->wait.set(WaitStateCell::Value{WaitReason::waiting_for_thread, 0, nullptr, coarse_now_ns(),
                                   site});
  // Leave after the switch? No: the count must drop now so a finished
  // locker's thread can exit once this fiber is off it; the fiber itself is
  // requeued on the pool after its context is saved.
  l->leave(true);
  trace::on_thread_unlock(f->id, l->worker.thread_id, l->object_id());
  trace::on_park(f->id, WaitReason::waiting_for_thread, 0, site, false);
  AfterSwitch a;
  a.kind = AfterSwitch::migrate;
  park_current(a);
}

// Plain threads blocked in call(), for the wait-for graph. A plain thread's
// call() already costs a fiber and two thread hand-offs: one mutex more is
// nothing, and fibers' calls never come here.
struct PlainCallEntry {
  PlainCall call;
  PlainCallEntry* prev = nullptr;
  PlainCallEntry* next = nullptr;
};
std::mutex g_plain_calls_mu;
PlainCallEntry* g_plain_calls = nullptr;  // guarded by g_plain_calls_mu

// Lists a plain thread's call() while it lasts.
class PlainCallScope {
 public:
  PlainCallScope(std::uint64_t call_fiber, std::uint64_t locker, std::source_location site) {
    e_.call = PlainCall{plain_thread_id(), static_cast<int>(syscall(SYS_gettid)), call_fiber,
                        locker, coarse_now_ns(), site};
    std::lock_guard lk(g_plain_calls_mu);
    e_.next = g_plain_calls;
    if (g_plain_calls) g_plain_calls->prev = &e_;
    g_plain_calls = &e_;
  }
  ~PlainCallScope() {
    std::lock_guard lk(g_plain_calls_mu);
    (e_.prev ? e_.prev->next : g_plain_calls) = e_.next;
    if (e_.next) e_.next->prev = e_.prev;
  }
  PlainCallScope(const PlainCallScope&) = delete;
  PlainCallScope& operator=(const PlainCallScope&) = delete;

 private:
  PlainCallEntry e_;
};

// State shared by a call() and the fiber that runs it on the locker's thread.
struct CallState {
  SpinLock lk;
  bool done = false;
  Waiter* waiter = nullptr;
  std::exception_ptr error;
};

}  // namespace

std::vector<PlainCall> plain_calls() {
  std::vector<PlainCall> out;
  std::lock_guard lk(g_plain_calls_mu);
  for (PlainCallEntry* e = g_plain_calls; e; e = e->next) out.push_back(e->call);
  return out;
}

}  // namespace tether::detail

namespace tether {

using detail::Fiber;
using detail::Locker;

ThreadLocker ThreadLocker::make(std::string name, std::source_location site) {
  return ThreadLocker(Locker::start(std::move(name), false, site));
}

ThreadLocker ThreadLocker::main() {
  detail::Runtime* rt = detail::runtime();
  if (!rt) throw std::logic_error("tether::ThreadLocker::main called outside tether::run");
  return ThreadLocker(rt->main_locker);
}

FiberRef ThreadLocker::go(Task fn, FiberOptions opts, std::source_location site) {
  s_->admit(true, site);
  Fiber* f;
  try {
    f = detail::create_fiber(std::move(fn), std::move(opts.name), opts.stack_size, site);
  } catch (...) {
    s_->leave(true);
    throw;
  }
  f->locker.store(s_.get(), std::memory_order_release);
  detail::trace::on_thread_lock(f->id, s_->worker.thread_id, s_->object_id());
  FiberRef ref(f);
  detail::ready(f);
  return ref;
}

void ThreadLocker::lock(std::source_location site) {
  detail::lock_to(detail::require_fiber("ThreadLocker::lock()", site), s_.get(), site);
}

void ThreadLocker::unlock(std::source_location site) {
  detail::unlock_from(detail::require_fiber("ThreadLocker::unlock()", site), s_.get(), site);
}

void ThreadLocker::call_task(Task fn, std::source_location site) {
  Locker* l = s_.get();
  detail::Worker* w = detail::current_worker();
  if (w == &l->worker) {
    if (w->current) {  // already on this thread: run it here
      fn();
      return;
    }
    detail::throw_misuse(
        fmt::format("call() into thread \"{}\" from that thread outside a fiber: it would wait "
                    "for itself",
                    l->worker.name),
        site);
  }
  l->admit(false, site);
  detail::CallState st;
  Fiber* cf;
  try {
    cf = detail::create_fiber(
        Task([&st, fn = std::move(fn)]() mutable {
          try {
            fn();
          } catch (...) {
            st.error = std::current_exception();
          }
          st.lk.lock();
          st.done = true;
          detail::Waiter* waiter = st.waiter;
          st.lk.unlock();
          if (waiter && waiter->try_claim()) detail::wake(*waiter);
        }),
        "call:" + l->worker.name, 0, site);
  } catch (...) {
    l->leave(false);
    throw;
  }
  cf->is_call.store(true, std::memory_order_relaxed);
  if (detail::lock_order_on()) detail::lock_order_call(*cf);  // cf runs under our locks
  cf->locker.store(l, std::memory_order_release);
  const std::uint64_t call_fiber = cf->id;  // cf may be gone once the call is done
  detail::trace::on_thread_lock(call_fiber, l->worker.thread_id, l->object_id());
  detail::trace::on_call_begin(l->object_id(), call_fiber);
  // A plain thread is listed before its call fiber can run (and so finish):
  // the graph never sees the call fiber without the thread it holds up.
  std::optional<detail::PlainCallScope> plain;
  if (!w || !w->current) plain.emplace(call_fiber, l->object_id(), site);
  detail::ready(cf);
  st.lk.lock();
  if (!st.done) {
    detail::Waiter waiter;
    st.waiter = &waiter;
    detail::block(waiter, st.lk,
                  detail::WaitSite{WaitReason::call, l->object_id(), l->object_name().c_str(), site});
  } else {
    st.lk.unlock();
  }
  detail::trace::on_call_end(l->object_id(), call_fiber);
  if (st.error) std::rethrow_exception(st.error);
}

const std::string& ThreadLocker::name() const noexcept { return s_->worker.name; }
std::uint64_t ThreadLocker::id() const noexcept { return s_->object_id(); }
int ThreadLocker::tid() const noexcept { return s_->worker.tid.load(std::memory_order_relaxed); }
bool ThreadLocker::finished() const noexcept {
  return s_->finished.load(std::memory_order_acquire);
}

void lock_os_thread(std::source_location site) {
  Fiber* f = detail::require_fiber("lock_os_thread()", site);
  if (f->os_locker) {
    ++f->os_lock_depth;
    return;
  }
  if (Locker* cur = f->locker.load(std::memory_order_relaxed)) {
    detail::throw_misuse(
        fmt::format("lock_os_thread() while locked to shared thread \"{}\"", cur->worker.name),
        site);
  }
  auto l = Locker::start(fmt::format("fiber-{}", f->id), true, site);
  f->os_locker = l.get();
  f->os_lock_depth = 1;
  detail::lock_to(f, l.get(), site);
}

void unlock_os_thread(std::source_location site) {
  Fiber* f = detail::require_fiber("unlock_os_thread()", site);
  if (!f->os_locker) detail::throw_misuse("unlock_os_thread() when not locked", site);
  if (--f->os_lock_depth > 0) return;
  Locker* l = f->os_locker;
  f->os_locker = nullptr;
  detail::unlock_from(f, l, site);
}

}  // namespace tether
