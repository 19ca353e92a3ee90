// tether::WaitGroup: Go's sync.WaitGroup on the runtime's block()/wake().
#include "tether/wait_group.h"

#include <mutex>
#include <string>
#include <utility>

#include "mutex.h"  // wait_site_for, describe_object
#include "wait_group.h"
#include "trace_events.h"

namespace tether {
namespace detail {

WaitGroupCore::WaitGroupCore(std::string name, std::source_location site)
    : SyncObject(ObjectKind::wait_group, std::move(name), site) {
  publish();  // last: the detector may describe it from now on
}

void WaitGroupCore::add(std::int64_t n, std::source_location site) {
  const std::uint64_t me = current_fiber_id();
  lock_.lock();
  users_.add(me);
  const std::int64_t before = count_.load(std::memory_order_relaxed);
  const std::int64_t after = before + n;
  if (after < 0) {
    lock_.unlock();
    throw_misuse("negative counter in " + describe_object("WaitGroup", *this) + ": " +
                     std::to_string(before) + (n < 0 ? " - " : " + ") +
                     std::to_string(n < 0 ? -n : n),
                 site);
  }
  count_.store(after, std::memory_order_release);
  trace::on_wg_add(object_id(), n, after);
  WakeList released;
  if (after == 0) {
    while (Waiter* w = waiters_.pop_claimed()) released.push(w);
  }
  lock_.unlock();
  released.wake_all();  // last: `wg.wait(); return;` may destroy *this at once
}

void WaitGroupCore::wait(std::source_location site) {
  const std::uint64_t me = current_fiber_id();
  lock_.lock();
  users_.add(me);
  if (count_.load(std::memory_order_relaxed) == 0) {
    lock_.unlock();
    return;
  }
  Waiter w;
  w.aux = me;
  waiters_.push_back(&w);
  block(w, lock_, wait_site_for(*this, WaitReason::waitgroup_wait, site));
}

std::size_t WaitGroupCore::waiter_count() const noexcept {
  std::lock_guard g(lock_);
  return waiters_.size();
}

void WaitGroupCore::describe(ObjectState& out) const {
  std::lock_guard g(lock_);
  out.count = count_.load(std::memory_order_relaxed);
  describe_waiters(waiters_, out);
  users_.fill(out, /*wakeable_from_outside=*/true);
}

}  // namespace detail

WaitGroup::WaitGroup(std::string name, std::source_location site)
    : core_(std::make_unique<detail::WaitGroupCore>(std::move(name), site)) {}
WaitGroup::~WaitGroup() = default;

void WaitGroup::add(std::int64_t n, std::source_location site) { core_->add(n, site); }
void WaitGroup::wait(std::source_location site) { core_->wait(site); }
std::int64_t WaitGroup::count() const noexcept { return core_->count(); }
std::uint64_t WaitGroup::id() const noexcept { return core_->object_id(); }
const std::string& WaitGroup::name() const noexcept { return core_->object_name(); }

}  // namespace tether
