// Fibers: creation, the fiber registry, joining, FiberRef, go(), this_fiber.
#include <fmt/format.h>

#include <cstdio>
#include <exception>
#include <mutex>

#include "fiber_impl.h"
#include "fiber_registry.h"
#include "locker.h"
#include "runtime_state.h"
#include "scheduler.h"
#include "sync_object.h"
#include "tether/fiber.h"
#include "tether/runtime.h"
#include "trace_events.h"

namespace tether::detail {

ctx::fcontext_t make_fiber_context(Fiber* f);  // scheduler.cpp

// ---- WaitStateCell: a sequence lock over the fields (the writers are inline) ----

WaitStateCell::Value WaitStateCell::read() const noexcept {
  Value v;
  for (;;) {
    const std::uint32_t s1 = seq_.load(std::memory_order_acquire);
    if (s1 & 1) {
      cpu_relax();
      continue;
    }
    v.reason = reason_.load(std::memory_order_relaxed);
    v.object_id = object_id_.load(std::memory_order_relaxed);
    v.object_name = object_name_.load(std::memory_order_relaxed);
    v.since_ns = since_ns_.load(std::memory_order_relaxed);
    v.site = site_.load(std::memory_order_relaxed);
    v.timed = timed_.load(std::memory_order_relaxed);
    v.version = s1;
    fence(std::memory_order_acquire);
    if (seq_.load(std::memory_order_relaxed) == s1) return v;
  }
}

// ---- Fiber ----

Fiber::Fiber(std::uint64_t id_, std::string name_, std::source_location created_at_,
             std::uint64_t parent_, Task fn_)
    : id(id_), name(std::move(name_)), created_at(created_at_), parent(parent_),
      fn(std::move(fn_)) {}

Fiber::~Fiber() = default;

void Fiber::release() noexcept {
  if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
}

// ---- registry ----

FiberRegistry& FiberRegistry::instance() {
  static FiberRegistry* r = new FiberRegistry;  // outlives static destructors
  return *r;
}

void FiberRegistry::add(Fiber* f) {
  std::lock_guard lk(mu_);
  f->reg_prev = nullptr;
  f->reg_next = head_;
  if (head_) head_->reg_prev = f;
  head_ = f;
  ++alive_;
  f->retain();  // the registry's reference: dumps may read a fiber until it leaves
}

void FiberRegistry::remove(Fiber* f) {
  {
    std::lock_guard lk(mu_);
    (f->reg_prev ? f->reg_prev->reg_next : head_) = f->reg_next;
    if (f->reg_next) f->reg_next->reg_prev = f->reg_prev;
    f->reg_prev = f->reg_next = nullptr;
    --alive_;
  }
  f->release();
}

std::uint64_t FiberRegistry::next_id() noexcept {
  return next_id_.fetch_add(1, std::memory_order_relaxed);
}

std::size_t FiberRegistry::alive() const {
  std::lock_guard lk(mu_);
  return alive_;
}

Fiber* create_fiber(Task fn, std::string name, std::size_t stack_size,
                    std::source_location site) {
  auto& reg = FiberRegistry::instance();
  auto* f = new Fiber(reg.next_id(), std::move(name), site, current_fiber_id(), std::move(fn));
  try {
    f->stack = allocate_stack(stack_size);
  } catch (...) {
    delete f;
    throw;
  }
  sanitizer_fiber_create(f->san, f->stack.base, f->stack.size);
  f->ctx = make_fiber_context(f);
  f->wait.set(WaitStateCell::Value{WaitReason::runnable, 0, nullptr, coarse_now_ns(), site});
  reg.add(f);
  trace::on_fiber_create(f->id, f->parent, site, f->name);
  return f;
}

void run_fiber_body(Fiber* f) noexcept {
  try {
    f->fn();
  } catch (...) {
    Runtime* rt = runtime();
    if (rt && rt->main_locker && f->id == rt->main_fiber_id) {
      rt->main_exception = std::current_exception();
    } else {
      // The terminate handler (fiber_dump.cpp) prints the one "fatal error"
      // line, with the exception's type, and the dump; without it (crash
      // handlers off) the C++ library's handler names the exception.
      std::terminate();
    }
  }
  f->fn = Task();  // destroy the closure while its fiber can still run destructors
  Runtime* rt = runtime();
  if (rt && f->id == rt->main_fiber_id) {
    rt->main_done.store(true, std::memory_order_release);
    rt->main_locker->worker.parker.unpark();
  }
  // Leave the locker before joiners wake: after join() the locker's state
  // must already reflect the fiber's end. Its thread cannot exit before this
  // fiber has switched away for good (it is running us).
  if (Locker* l = f->locker.load(std::memory_order_relaxed))
    l->leave(!f->is_call.load(std::memory_order_relaxed));
  f->join_lock.lock();
  f->done.store(true, std::memory_order_release);
  WaitQueue joiners;
  while (Waiter* w = f->joiners.pop_front()) joiners.push_back(w);
  f->join_lock.unlock();
  trace::on_fiber_exit(f->id);
  while (Waiter* w = joiners.pop_front()) {
    if (w->try_claim()) wake(*w);
  }
}

// Runs on the next context, after the finished fiber's last switch.
void finish_fiber(Fiber* f) noexcept {
  sanitizer_fiber_destroy(f->san);
  release_stack(f->stack);
  f->stack = Stack{};
  FiberRegistry::instance().remove(f);
  f->release();  // the runtime's reference
}

void join_fiber(Fiber* f, std::source_location site) {
  if (f->done.load(std::memory_order_acquire)) return;
  if (f == current_fiber()) throw_misuse(fmt::format("fiber {} joins itself", f->id), site);
  f->join_lock.lock();
  if (f->done.load(std::memory_order_relaxed)) {
    f->join_lock.unlock();
    return;
  }
  Waiter w;
  f->joiners.push_back(&w);
  block(w, f->join_lock, WaitSite{WaitReason::join, f->id, nullptr, site});
}

}  // namespace tether::detail

namespace tether {

using detail::Fiber;

FiberRef::FiberRef(Fiber* f) noexcept : f_(f) {
  if (f_) f_->retain();
}
FiberRef::FiberRef(const FiberRef& o) : FiberRef(o.f_) {}
FiberRef& FiberRef::operator=(const FiberRef& o) {
  if (this != &o) {
    if (o.f_) o.f_->retain();
    if (f_) f_->release();
    f_ = o.f_;
  }
  return *this;
}
FiberRef::FiberRef(FiberRef&& o) noexcept : f_(std::exchange(o.f_, nullptr)) {}
FiberRef& FiberRef::operator=(FiberRef&& o) noexcept {
  if (this != &o) {
    if (f_) f_->release();
    f_ = std::exchange(o.f_, nullptr);
  }
  return *this;
}
FiberRef::~FiberRef() {
  if (f_) f_->release();
}
std::uint64_t FiberRef::id() const noexcept { return f_ ? f_->id : 0; }
bool FiberRef::done() const noexcept { return !f_ || f_->done.load(std::memory_order_acquire); }
void FiberRef::join(std::source_location site) {
  if (f_) detail::join_fiber(f_, site);
}

FiberRef go(Task fn, FiberOptions opts, std::source_location site) {
  if (!detail::runtime()) throw std::logic_error("tether::go called outside tether::run");
  Fiber* f = detail::create_fiber(std::move(fn), std::move(opts.name), opts.stack_size, site);
  FiberRef ref(f);
  detail::ready(f);
  return ref;
}

namespace this_fiber {
std::uint64_t id() noexcept { return detail::current_fiber_id(); }
void yield() {
  detail::Worker* w = detail::current_worker();
  if (!w || !w->current) {
    std::this_thread::yield();
    return;
  }
  detail::AfterSwitch a;
  a.kind = detail::AfterSwitch::requeue;
  detail::park_current(a);
}
}  // namespace this_fiber

}  // namespace tether
