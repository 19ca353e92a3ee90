// tether::Once: Go's sync.Once with std::call_once's exception rule.
#include "tether/once.h"

#include <mutex>
#include <utility>

#include "mutex.h"  // wait_site_for, describe_object, WakeList
#include "once.h"

namespace tether {
namespace detail {

OnceCore::OnceCore(std::string name, std::source_location site)
    : SyncObject(ObjectKind::once, std::move(name), site) {
  publish();  // last: the detector may describe it from now on
}

void OnceCore::call(void (*run)(void*), void* fn, std::source_location site) {
  if (done_.load(std::memory_order_acquire)) return;
  const std::uint64_t me = current_fiber_id();
  for (;;) {
    lock_.lock();
    users_.add(me);
    if (done_.load(std::memory_order_relaxed)) {
      lock_.unlock();
      return;
    }
    if (!running_) {
      running_ = true;
      runner_fiber_.store(me, std::memory_order_release);
      runner_thread_ = std::this_thread::get_id();
      lock_.unlock();
      break;
    }
    const std::uint64_t runner = runner_fiber_.load(std::memory_order_relaxed);
    if (runner == me && (me != 0 || runner_thread_ == std::this_thread::get_id())) {
      lock_.unlock();
      throw_misuse("Once::call from inside the function of the same " +
                       describe_object("Once", *this) + " (it would wait for itself)",
                   site);
    }
    // Someone else runs fn: wait until it returned or threw, then look again
    // (after a throw, the first of us to get here runs its own fn).
    Waiter w;
    w.aux = me;
    waiters_.push_back(&w);
    block(w, lock_, wait_site_for(*this, WaitReason::once_wait, site));
  }
  try {
    run(fn);
  } catch (...) {
    finish(false);
    throw;
  }
  finish(true);
}

void OnceCore::finish(bool ok) noexcept {
  WakeList all;
  lock_.lock();
  running_ = false;
  runner_fiber_.store(0, std::memory_order_release);
  runner_thread_ = {};
  if (ok) done_.store(true, std::memory_order_release);
  while (Waiter* w = waiters_.pop_claimed()) all.push(w);
  lock_.unlock();
  all.wake_all();
}

std::size_t OnceCore::waiter_count() const noexcept {
  std::lock_guard g(lock_);
  return waiters_.size();
}

void OnceCore::describe(ObjectState& out) const {
  std::lock_guard g(lock_);
  if (running_) out.holders.push_back(runner_fiber_.load(std::memory_order_relaxed));
  describe_waiters(waiters_, out);
  users_.fill(out, /*wakeable_from_outside=*/true);
}

}  // namespace detail

Once::Once(std::string name, std::source_location site)
    : core_(std::make_unique<detail::OnceCore>(std::move(name), site)) {}
Once::~Once() = default;

void Once::call_impl(void (*run)(void*), void* fn, std::source_location site) {
  core_->call(run, fn, site);
}
bool Once::done() const noexcept { return core_->done(); }
std::uint64_t Once::runner() const noexcept { return core_->runner(); }
std::uint64_t Once::id() const noexcept { return core_->object_id(); }
const std::string& Once::name() const noexcept { return core_->object_name(); }

}  // namespace tether
