// tether::CondVar: FIFO condition variable on the runtime's block()/wake().
#include "tether/cond_var.h"

#include <mutex>
#include <utility>

#include "cond_var.h"
#include "trace_events.h"

namespace tether {
namespace detail {

CondVarCore::CondVarCore(std::string name, std::source_location site)
    : SyncObject(ObjectKind::cond_var, std::move(name), site) {
  publish();  // last: the detector may describe it from now on
}

bool CondVarCore::wait(MutexCore& mu, const Clock::time_point* deadline,
                       std::source_location site) {
  if (deadline && *deadline <= Clock::now()) {
    // Already expired: report the timeout without giving the mutex away.
    if (!mu.locked()) {
      throw_misuse("CondVar::wait with " + describe_object("Mutex", mu) + " not locked", site);
    }
    return false;
  }
  Waiter w;
  w.aux = current_fiber_id();
  lock_.lock();
  users_.add(w.aux);
  if (!mu.release()) {
    lock_.unlock();
    throw_misuse("CondVar::wait with " + describe_object("Mutex", mu) + " not locked", site);
  }
  waiters_.push_back(&w);
  const WaitSite why = wait_site_for(*this, WaitReason::cond_wait, site);
  bool signalled = true;
  if (deadline) {
    signalled = block_until(w, lock_, why, *deadline);
  } else {
    block(w, lock_, why);
  }
  if (!signalled) {
    // The timeout claimed w; a signaller that popped it meanwhile skipped it.
    std::lock_guard g(lock_);
    waiters_.remove(&w);
  }
  mu.lock(site);
  return signalled;
}

// Both wake only after unlocking: a woken fiber may destroy *this at once.
void CondVarCore::signal() noexcept {
  const std::uint64_t me = current_fiber_id();
  lock_.lock();
  users_.add(me);
  Waiter* w = waiters_.pop_claimed();
  lock_.unlock();
  trace::on_cond_signal(object_id(), false);
  if (w) wake(*w);
}

void CondVarCore::broadcast() noexcept {
  WakeList all;
  const std::uint64_t me = current_fiber_id();
  lock_.lock();
  users_.add(me);
  while (Waiter* w = waiters_.pop_claimed()) all.push(w);
  lock_.unlock();
  trace::on_cond_signal(object_id(), true);
  all.wake_all();
}

std::size_t CondVarCore::waiter_count() const noexcept {
  std::lock_guard g(lock_);
  return waiters_.size();
}

void CondVarCore::describe(ObjectState& out) const {
  std::lock_guard g(lock_);
  describe_waiters(waiters_, out);
  users_.fill(out, /*wakeable_from_outside=*/true);
}

}  // namespace detail

CondVar::CondVar(std::string name, std::source_location site)
    : core_(std::make_unique<detail::CondVarCore>(std::move(name), site)) {}
CondVar::~CondVar() = default;

void CondVar::wait(Mutex& mu, std::source_location site) {
  core_->wait(*mu.core(), nullptr, site);
}

void CondVar::wait(std::unique_lock<Mutex>& lk, std::source_location site) {
  wait(checked(lk, site), site);
}

bool CondVar::wait_until(Mutex& mu, Clock::time_point deadline, std::source_location site) {
  return core_->wait(*mu.core(), &deadline, site);
}

Mutex& CondVar::checked(std::unique_lock<Mutex>& lk, std::source_location site) {
  if (!lk.owns_lock()) {
    detail::throw_misuse("CondVar::wait with a unique_lock that does not own its mutex", site);
  }
  return *lk.mutex();
}

void CondVar::signal(std::source_location) { core_->signal(); }
void CondVar::broadcast(std::source_location) { core_->broadcast(); }
std::size_t CondVar::waiter_count() const noexcept { return core_->waiter_count(); }
std::uint64_t CondVar::id() const noexcept { return core_->object_id(); }
const std::string& CondVar::name() const noexcept { return core_->object_name(); }

}  // namespace tether
