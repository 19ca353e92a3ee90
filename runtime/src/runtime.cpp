// tether::run(): starting and stopping the pool, the main locker and the monitor.
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <stdexcept>
#include <string_view>

#include "fiber_dump.h"
#include <fmt/format.h>

#include "fiber_impl.h"
#include "fiber_registry.h"
#include "wait_graph.h"
#include "lock_order.h"
#include "locker.h"
#include "object_registry.h"
#include "preload_bridge.h"
#include "runtime_state.h"
#include "scheduler.h"
#include "stack_capture.h"
#include "tether/runtime.h"
#include "trace_events.h"

namespace tether::detail {

namespace {
std::atomic<Runtime*> g_runtime{nullptr};

int procs_from_env() {
  int n = static_cast<int>(std::thread::hardware_concurrency());
  if (const char* e = std::getenv("TETHER_PROCS")) {
    char* end = nullptr;
    long v = std::strtol(e, &end, 10);
    if (end != e && *end == '\0' && v >= 1 && v <= 256) n = static_cast<int>(v);
  }
  return n < 1 ? 1 : n;
}

// How long a pool thread may sit in a system call before the monitor lets
// another thread take over its runnable fibers (Go's sysmon retake).
constexpr std::int64_t kSyscallRetakeNs = 200'000;
}  // namespace

Runtime* runtime() noexcept { return g_runtime.load(std::memory_order_acquire); }

void sanitizer_thread_context(SanitizerContext& c) {
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    void* addr = nullptr;
    std::size_t size = 0;
    pthread_attr_getstack(&attr, &addr, &size);
    pthread_attr_destroy(&attr);
    c.stack_bottom = addr;
    c.stack_size = size;
  }
#ifdef TETHER_TSAN
  c.tsan_fiber = __tsan_get_current_fiber();
#endif
}

void Runtime::start_pool_worker() {
  const std::size_t i = npool.load(std::memory_order_relaxed);
  if (i >= kMaxPool) return;
  auto w = std::make_unique<Worker>(Worker::pool, "pool-" + std::to_string(i + 1), nullptr);
  Worker* wp = w.get();
  wp->thread_id = ObjectRegistry::instance().allocate_id();
  pool_owned.push_back(std::move(w));
  pool[i].store(wp, std::memory_order_release);
  npool.store(i + 1, std::memory_order_release);
  pool_threads.emplace_back([this, wp] {
    set_current_worker(wp);
    wp->tid.store(static_cast<int>(syscall(SYS_gettid)), std::memory_order_relaxed);
    pthread_setname_np(pthread_self(), wp->name.substr(0, 15).c_str());
    register_worker_thread(wp);
    wp->loop();
    unregister_worker_thread();
    set_current_worker(nullptr);
    threads_exited.fetch_add(1, std::memory_order_release);
  });
}

void Runtime::inject_fiber(Fiber* f) noexcept {
  inject_lock.lock();
  inject.push(f);
  injected.store(inject.size(), std::memory_order_relaxed);
  inject_lock.unlock();
  wake_idle_worker();
}

void Runtime::wake_idle_worker(bool even_if_spinning) noexcept {
  fence(std::memory_order_seq_cst);
  if ((!even_if_spinning && nspinning.load(std::memory_order_relaxed) != 0) ||
      nidle.load(std::memory_order_relaxed) == 0)
    return;
  Worker* w = nullptr;
  idle_lock.lock();
  if (!idle_workers.empty()) {
    w = idle_workers.back();
    idle_workers.pop_back();
    w->idle.store(false, std::memory_order_relaxed);
    nidle.fetch_sub(1, std::memory_order_relaxed);
  }
  idle_lock.unlock();
  if (w) w->parker.unpark();
}

Fiber* Runtime::steal(Worker* thief) noexcept {
  const std::size_t n = npool.load(std::memory_order_acquire);
  if (n <= 1) return nullptr;
  // Start after the thief, so thieves spread over their victims.
  std::size_t start = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (pool[i].load(std::memory_order_relaxed) == thief) start = i + 1;
  }
  for (std::size_t k = 0; k < n; ++k) {
    Worker* v = pool[(start + k) % n].load(std::memory_order_acquire);
    if (!v || v == thief) continue;
    if (v->queued.load(std::memory_order_relaxed) != 0) {
      v->qlock.lock();
      Fiber* f = v->queue.pop();
      v->queued.store(v->queue.size(), std::memory_order_relaxed);
      v->qlock.unlock();
      if (f) return f;
    }
    // A thread stuck in a system call, or running one fiber that does not
    // switch out (runnext_stale_at), cannot run its runnext: take it.
    if (v->runnext.load(std::memory_order_relaxed) != nullptr && v->runnext_stealable()) {
      if (Fiber* f = v->runnext.exchange(nullptr, std::memory_order_acq_rel)) return f;
    }
  }
  return nullptr;
}

bool Runtime::pool_has_work() const noexcept {
  if (injected.load(std::memory_order_relaxed) != 0) return true;
  const std::size_t n = npool.load(std::memory_order_acquire);
  for (std::size_t i = 0; i < n; ++i) {
    Worker* v = pool[i].load(std::memory_order_acquire);
    if (v->queued.load(std::memory_order_relaxed) != 0) return true;
    if (v->runnext.load(std::memory_order_relaxed) && v->runnext_stealable()) return true;
  }
  return false;
}

// ---- Monitor: timers and the system-call watchdog ----

void Monitor::start() {
  stop_ = false;
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "tether-monitor");
    loop();
  });
}

void Monitor::stop() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void Monitor::add_timer(Waiter* w, Clock::time_point deadline) {
  bool earliest;
  {
    std::lock_guard lk(mu_);
    auto it = timers_.emplace(deadline, w).first;
    earliest = it == timers_.begin();
  }
  if (earliest) cv_.notify_one();
}

void Monitor::cancel_timer(Waiter* w, Clock::time_point deadline) {
  std::lock_guard lk(mu_);
  timers_.erase({deadline, w});
}

void Monitor::loop() {
  std::unique_lock lk(mu_);
  int quiet_ticks = 0;
  while (!stop_) {
    refresh_coarse_clock();
    // Fire due timers. Claiming under mu_ orders us against cancel_timer().
    const auto now = Clock::now();
    while (!timers_.empty() && timers_.begin()->first <= now) {
      Waiter* w = timers_.begin()->second;
      timers_.erase(timers_.begin());
      if (w->try_claim()) {
        w->timed_out = true;
        wake(*w);
      }
    }
    lk.unlock();
    const std::int64_t t = now_ns();
    check_syscalls(t);
    check_starved_runnext();
    Runtime* rt = runtime();
    bool busy = false;
    if (rt) {
      const std::size_t n = rt->npool.load(std::memory_order_acquire);
      for (std::size_t i = 0; i < n && !busy; ++i)
        busy = rt->pool[i].load()->in_syscall.load(std::memory_order_relaxed);
    }
    quiet_ticks = busy ? 0 : quiet_ticks + 1;
    lk.lock();
    // Tick at 1 ms while pool threads make system calls, back off to 10 ms
    // (which is also the resolution of wait-state times then).
    auto wake_at = Clock::now() + std::chrono::milliseconds(quiet_ticks > 100 ? 10 : 1);
    if (!timers_.empty() && timers_.begin()->first < wake_at) wake_at = timers_.begin()->first;
    cv_.wait_until(lk, wake_at);
  }
}

void Monitor::check_syscalls(std::int64_t now) {
  Runtime* rt = runtime();
  if (!rt) return;
  const std::size_t n = rt->npool.load(std::memory_order_acquire);
  bool stuck_with_work = false;
  for (std::size_t i = 0; i < n; ++i) {
    Worker* w = rt->pool[i].load(std::memory_order_acquire);
    if (w->in_syscall.load(std::memory_order_acquire) &&
        now - w->syscall_since_ns.load(std::memory_order_relaxed) > kSyscallRetakeNs) {
      stuck_with_work = true;
    }
  }
  if (!stuck_with_work || !rt->pool_has_work()) return;
  // Let an idle pool thread take the work, or start a spare one.
  if (rt->nidle.load(std::memory_order_acquire) > 0) {
    // Even past a spinner: it may be the very thread that is stuck. (This
    // used to reset nspinning instead, which a spinner still counted in
    // then took below zero, and no thread spun or woke others after that.)
    rt->wake_idle_worker(/*even_if_spinning=*/true);
    return;
  }
  int running = 0;
  for (std::size_t i = 0; i < n; ++i) {
    Worker* w = rt->pool[i].load(std::memory_order_acquire);
    if (!w->in_syscall.load(std::memory_order_relaxed)) ++running;
  }
  if (running < rt->procs) {
    std::lock_guard plk(rt->pool_mu);
    rt->start_pool_worker();
  }
}

void Monitor::check_starved_runnext() {
  Runtime* rt = runtime();
  if (!rt) return;
  const std::size_t n = rt->npool.load(std::memory_order_acquire);
  bool starved = false;
  for (std::size_t i = 0; i < n; ++i) {
    Worker* w = rt->pool[i].load(std::memory_order_acquire);
    const std::uint64_t s = w->switches.load(std::memory_order_relaxed);
    if (s == w->monitor_seen_switches && w->runnext.load(std::memory_order_relaxed) != nullptr &&
        !w->idle.load(std::memory_order_relaxed)) {
      w->runnext_stale_at.store(s, std::memory_order_relaxed);
      starved = true;
    }
    w->monitor_seen_switches = s;
  }
  // A spinning pool thread finds it by itself (steal()); else wake one.
  if (starved) rt->wake_idle_worker();
}

void arm_timer(Waiter* w, Clock::time_point deadline) noexcept {
  runtime()->monitor.add_timer(w, deadline);
}

// ---- block / wake ----

bool block(Waiter& w, SpinLock* const* locks, std::size_t n, const WaitSite& why,
           const Clock::time_point* deadline) {
  Worker* worker = current_worker();
  if (Fiber* self = worker ? worker->current : nullptr) {
    return park_fiber(worker, self, w, locks, n, why, deadline);
  }
  // A plain thread.
  ThreadParker& p = ThreadParker::for_this_thread();
  w.parker = &p;
  trace::on_plain_park(why.reason, why.object_id, why.site, deadline != nullptr);
  struct Resumed {  // every way out below records the resume
    ~Resumed() { trace::on_plain_resume(); }
  } resumed;
  for (std::size_t i = 0; i < n; ++i) locks[i]->unlock();
  const std::int64_t spin = idle_spin_ns();
  // Woken: wait until the waker is done with our parker (wake(): a few
  // instructions, or one system call; yield if the waker was preempted).
  auto woken = [&w] {
    for (unsigned i = 0; !w.unparked.load(std::memory_order_acquire); ++i) {
      if (i < 256) {
        cpu_relax();
      } else {
        sched_yield();
      }
    }
    return true;
  };
  if (deadline) {
    for (;;) {
      if (w.woken.load(std::memory_order_acquire)) return woken();
      const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(*deadline -
                                                                             Clock::now());
      if (left.count() <= 0) {
        if (w.try_claim()) {
          w.timed_out = true;
          return false;
        }
        // A waker claimed w: its wake() is on the way.
        while (!w.woken.load(std::memory_order_acquire)) p.park(spin);
        return woken();
      }
      p.park(0, left.count());
    }
  }
  while (!w.woken.load(std::memory_order_acquire)) p.park(spin);
  return woken();
}

void cancel_park_timer(Waiter& w, Clock::time_point deadline) noexcept {
  runtime()->monitor.cancel_timer(&w, deadline);
}

// ---- run() ----


void run_main(Task fn) {
  auto* rt = new Runtime;
  Runtime* expected = nullptr;
  if (!g_runtime.compare_exchange_strong(expected, rt)) {
    delete rt;
    throw std::logic_error("tether::run: the runtime is already running");
  }
  install_dump_handlers();
  configure_lock_order();  // TETHER_LOCK_ORDER, TETHER_UNDER_RUN
  register_preload_hooks();  // libtether_preload.so, if loaded: interposed calls get recorded
  rt->procs = procs_from_env();
  refresh_coarse_clock();
  rt->main_locker = std::make_shared<Locker>("main", true, false, std::source_location::current());
  Locker* main = rt->main_locker.get();
  main->worker.tid.store(static_cast<int>(syscall(SYS_gettid)), std::memory_order_relaxed);
  Worker* previous = current_worker();
  set_current_worker(&main->worker);
  register_worker_thread(&main->worker);
  trace::start_for_run(*main);  // TETHER_TRACE
  rt->monitor.start();
  {
    std::lock_guard lk(rt->pool_mu);
    for (int i = 0; i < rt->procs; ++i) rt->start_pool_worker();
  }

  Fiber* f1 = create_fiber(std::move(fn), "main", 0, std::source_location::current());
  rt->main_fiber_id = f1->id;
  main->admit(true, std::source_location::current());
  f1->locker.store(main, std::memory_order_release);
  trace::on_thread_lock(f1->id, main->worker.thread_id, main->object_id());
  ready(f1);
  rt->watchdog.start();
  main->worker.loop();  // until fiber 1 has finished
  rt->watchdog.stop();
  unregister_worker_thread();

  // Fibers still alive are abandoned (never resumed); those nothing could
  // ever wake again are leaks, reported under `tether run`.
  report_leaks_at_exit();
  trace::stop_for_run(rt->main_exception ? -1 : 0);
  FiberRegistry::instance().for_each(
      [](Fiber& f) { f.abandoned.store(true, std::memory_order_relaxed); });

  // Stop: idle threads leave their loops and are joined; busy ones are left.
  rt->stopping.store(true, std::memory_order_release);
  std::vector<std::shared_ptr<Locker>> lockers;
  {
    std::lock_guard lk(rt->lockers_mu);
    lockers = rt->lockers;
  }
  for (auto& l : lockers) l->worker.parker.unpark();
  {
    std::lock_guard lk(rt->pool_mu);
    for (std::size_t i = 0; i < rt->npool.load(); ++i) rt->pool[i].load()->parker.unpark();
  }
  const std::size_t nthreads = rt->pool_threads.size() + lockers.size();
  bool all_exited = false;
  for (int i = 0; i < 2000; ++i) {
    std::size_t exited = static_cast<std::size_t>(rt->threads_exited.load());
    if (exited >= nthreads) {
      all_exited = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  for (auto& t : rt->pool_threads) all_exited ? t.join() : t.detach();
  for (auto& l : lockers) {
    if (!l->thread.joinable()) continue;
    if (l->exited.load()) {
      l->thread.join();
    } else {
      l->thread.detach();
    }
  }
  rt->monitor.stop();
  std::exception_ptr ex = rt->main_exception;
  set_current_worker(previous);
  g_runtime.store(nullptr, std::memory_order_release);
  // A detached thread may still touch the runtime: then it is never freed.
  if (all_exited) {
    rt->main_locker->finished.store(true);
    delete rt;
  }
  if (ex) std::rethrow_exception(ex);
}

}  // namespace tether::detail

namespace tether {
bool running() noexcept { return detail::runtime() != nullptr; }
}  // namespace tether
