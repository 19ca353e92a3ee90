// tether::Mutex: FIFO handoff mutex on the runtime's block()/wake() protocol.
#include "tether/mutex.h"

#include <mutex>
#include <string>
#include <utility>

#include "lock_order.h"
#include "mutex.h"
#include "trace_events.h"

namespace tether {
namespace detail {

MutexCore::MutexCore(std::string name, std::source_location site)
    : SyncObject(ObjectKind::mutex, std::move(name), site) {
  publish();  // last: the detector may describe it from now on
}

void MutexCore::lock(std::source_location site) {
  if (lock_order_on()) lock_order_before(*this, false, site);
  // The holder (and a waiter's aux) is the fiber, or the plain thread by its
  // own id: the detector tells a plain holder blocked in call() apart.
  const std::uint64_t me = current_user_id();
  lock_.lock();
  users_.add(me);
  if (!locked_.load(std::memory_order_relaxed)) {
    locked_.store(true, std::memory_order_relaxed);
    holder_.store(me, std::memory_order_relaxed);
    lock_.unlock();
    if (lock_order_on()) lock_order_acquired(*this, site);
    trace::on_lock_acquire(object_id(), false, site);
    return;
  }
  Waiter w;
  w.aux = me;
  waiters_.push_back(&w);
  block(w, lock_, wait_site_for(*this, WaitReason::mutex_lock, site));
  if (lock_order_on()) lock_order_acquired(*this, site);
  trace::on_lock_acquire(object_id(), false, site);
  // The unlocker made us the holder before waking us (handoff): nothing to do.
}

bool MutexCore::try_lock() noexcept {
  const std::uint64_t me = current_user_id();
  std::lock_guard g(lock_);
  users_.add(me);
  if (locked_.load(std::memory_order_relaxed)) return false;
  locked_.store(true, std::memory_order_relaxed);
  holder_.store(me, std::memory_order_relaxed);
  trace::on_lock_acquire(object_id(), false, std::source_location{});
  if (lock_order_on()) lock_order_acquired(*this, std::source_location{});
  return true;
}

bool MutexCore::release() noexcept {
  if (lock_order_on()) lock_order_released(*this);  // before a waiter can take it
  const std::uint64_t me = current_user_id();
  lock_.lock();
  users_.add(me);
  if (!locked_.load(std::memory_order_relaxed)) {
    lock_.unlock();
    return false;
  }
  trace::on_lock_release(object_id(), false);  // under the lock: before the next holder's acquire
  Waiter* next = waiters_.pop_claimed();
  if (next) {
    // Handoff: the mutex stays locked, now on behalf of the oldest waiter.
    holder_.store(next->aux, std::memory_order_relaxed);
  } else {
    holder_.store(0, std::memory_order_relaxed);
    locked_.store(false, std::memory_order_release);
  }
  lock_.unlock();
  if (next) wake(*next);  // last: the new holder may unlock and destroy *this at once
  return true;
}

void MutexCore::unlock(std::source_location site) {
  if (!release()) throw_misuse("unlock of unlocked " + describe_object("Mutex", *this), site);
}

std::size_t MutexCore::waiter_count() const noexcept {
  std::lock_guard g(lock_);
  return waiters_.size();
}

void MutexCore::describe(ObjectState& out) const {
  std::lock_guard g(lock_);
  if (locked_.load(std::memory_order_relaxed)) {
    out.holders.push_back(holder_.load(std::memory_order_relaxed));
  }
  describe_waiters(waiters_, out);
  users_.fill(out, /*wakeable_from_outside=*/false);
}

}  // namespace detail

Mutex::Mutex(std::string name, std::source_location site)
    : core_(std::make_unique<detail::MutexCore>(std::move(name), site)) {}
Mutex::~Mutex() = default;

void Mutex::lock(std::source_location site) { core_->lock(site); }
bool Mutex::try_lock(std::source_location) { return core_->try_lock(); }
void Mutex::unlock(std::source_location site) { core_->unlock(site); }
bool Mutex::locked() const noexcept { return core_->locked(); }
std::uint64_t Mutex::holder() const noexcept {
  const std::uint64_t h = core_->holder();
  return detail::is_plain_thread_id(h) ? 0 : h;  // the API speaks of fibers only
}
std::uint64_t Mutex::id() const noexcept { return core_->object_id(); }
const std::string& Mutex::name() const noexcept { return core_->object_name(); }

}  // namespace tether
