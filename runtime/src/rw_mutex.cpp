// tether::RWMutex: Go's writer-preferring reader/writer lock, with handoff.
#include "tether/rw_mutex.h"

#include <algorithm>
#include <mutex>
#include <utility>

#include "mutex.h"  // wait_site_for, describe_object
#include "lock_order.h"
#include "rw_mutex.h"
#include "trace_events.h"

namespace tether {
namespace detail {

RWMutexCore::RWMutexCore(std::string name, std::source_location site)
    : SyncObject(ObjectKind::rwmutex, std::move(name), site) {
  publish();  // last: the detector may describe it from now on
}

void RWMutexCore::add_reader(std::uint64_t fiber) noexcept {
  readers_.store(readers_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  if (fiber != 0 && tracked_ < reader_ids_.size()) reader_ids_[tracked_++] = fiber;
}

void RWMutexCore::remove_reader(std::uint64_t fiber) noexcept {
  const std::size_t left = readers_.load(std::memory_order_relaxed) - 1;
  readers_.store(left, std::memory_order_release);
  auto end = reader_ids_.begin() + tracked_;
  auto it = fiber != 0 ? std::find(reader_ids_.begin(), end, fiber) : end;
  if (it == end && tracked_ > left) it = reader_ids_.begin();  // runlock on someone's behalf
  if (it != end) {
    std::move(it + 1, end, it);
    --tracked_;
  }
}

void RWMutexCore::grant_writer(Waiter& w) noexcept {
  writer_.store(true, std::memory_order_release);
  writer_id_.store(w.aux, std::memory_order_release);
}

void RWMutexCore::lock(std::source_location site) {
  if (lock_order_on()) lock_order_before(*this, false, site);
  // Holders (and waiters' aux) are fibers, or plain threads by their own id:
  // the detector tells a plain holder blocked in call() apart.
  const std::uint64_t me = current_user_id();
  lock_.lock();
  users_.add(me);
  if (!writer_.load(std::memory_order_relaxed) && readers_.load(std::memory_order_relaxed) == 0 &&
      waiting_writers_.empty()) {
    writer_.store(true, std::memory_order_release);
    writer_id_.store(me, std::memory_order_release);
    lock_.unlock();
    if (lock_order_on()) lock_order_acquired(*this, site);
    return;
  }
  Waiter w;
  w.aux = me;
  waiting_writers_.push_back(&w);
  block(w, lock_, wait_site_for(*this, WaitReason::rwmutex_lock, site));
  if (lock_order_on()) lock_order_acquired(*this, site);
  // Handed over: we are the writer now.
}

bool RWMutexCore::try_lock() noexcept {
  const std::uint64_t me = current_user_id();
  std::lock_guard g(lock_);
  users_.add(me);
  if (writer_.load(std::memory_order_relaxed) || readers_.load(std::memory_order_relaxed) != 0 ||
      !waiting_writers_.empty()) {
    return false;
  }
  writer_.store(true, std::memory_order_release);
  writer_id_.store(me, std::memory_order_release);
  if (lock_order_on()) lock_order_acquired(*this, std::source_location{});
  return true;
}

void RWMutexCore::unlock(std::source_location site) {
  if (lock_order_on() && write_locked()) lock_order_released(*this);
  const std::uint64_t me = current_user_id();
  lock_.lock();
  users_.add(me);
  if (!writer_.load(std::memory_order_relaxed)) {
    lock_.unlock();
    throw_misuse("unlock of RWMutex that is not write-locked: " +
                     describe_object("RWMutex", *this),
                 site);
  }
  trace::on_lock_release(object_id(), false);
  writer_.store(false, std::memory_order_release);
  writer_id_.store(0, std::memory_order_release);
  // Readers that queued behind this writer go first, all together; a writer
  // waiting behind them gets the lock when the last of them leaves.
  WakeList admitted;
  bool any = false;
  while (Waiter* r = waiting_readers_.pop_claimed()) {
    add_reader(r->aux);
    admitted.push(r);
    any = true;
  }
  if (!any) {
    if (Waiter* w = waiting_writers_.pop_claimed()) {
      grant_writer(*w);
      admitted.push(w);
    }
  }
  lock_.unlock();
  admitted.wake_all();  // after unlocking: a woken fiber may destroy *this
}

void RWMutexCore::rlock(std::source_location site) {
  if (lock_order_on()) lock_order_before(*this, true, site);
  const std::uint64_t me = current_user_id();
  lock_.lock();
  users_.add(me);
  if (!writer_.load(std::memory_order_relaxed) && waiting_writers_.empty()) {
    add_reader(me);
    lock_.unlock();
    if (lock_order_on()) lock_order_acquired(*this, site);
    return;
  }
  Waiter w;
  w.aux = me;
  waiting_readers_.push_back(&w);
  block(w, lock_, wait_site_for(*this, WaitReason::rwmutex_rlock, site));
  if (lock_order_on()) lock_order_acquired(*this, site);
  // Admitted by the writer's unlock(): we are counted as a reader.
}

bool RWMutexCore::try_rlock() noexcept {
  const std::uint64_t me = current_user_id();
  std::lock_guard g(lock_);
  users_.add(me);
  if (writer_.load(std::memory_order_relaxed) || !waiting_writers_.empty()) return false;
  add_reader(me);
  if (lock_order_on()) lock_order_acquired(*this, std::source_location{});
  return true;
}

void RWMutexCore::runlock(std::source_location site) {
  if (lock_order_on() && reader_count() != 0) lock_order_released(*this);
  const std::uint64_t me = current_user_id();
  lock_.lock();
  users_.add(me);
  if (readers_.load(std::memory_order_relaxed) == 0) {
    lock_.unlock();
    throw_misuse("runlock of RWMutex that is not read-locked: " +
                     describe_object("RWMutex", *this),
                 site);
  }
  trace::on_lock_release(object_id(), true);
  remove_reader(me);
  Waiter* next = nullptr;
  if (readers_.load(std::memory_order_relaxed) == 0) {
    next = waiting_writers_.pop_claimed();
    if (next) grant_writer(*next);
  }
  lock_.unlock();
  if (next) wake(*next);
}

std::vector<std::uint64_t> RWMutexCore::readers() const {
  std::lock_guard g(lock_);
  return std::vector<std::uint64_t>(reader_ids_.begin(), reader_ids_.begin() + tracked_);
}

std::size_t RWMutexCore::waiting_writers() const noexcept {
  std::lock_guard g(lock_);
  return waiting_writers_.size();
}

std::size_t RWMutexCore::waiting_readers() const noexcept {
  std::lock_guard g(lock_);
  return waiting_readers_.size();
}

void RWMutexCore::describe(ObjectState& out) const {
  std::lock_guard g(lock_);
  if (writer_.load(std::memory_order_relaxed)) {
    out.writer = writer_id_.load(std::memory_order_relaxed);
    out.holders.push_back(out.writer);
  } else {
    out.holders.assign(reader_ids_.begin(), reader_ids_.begin() + tracked_);
    // Readers beyond the cap have no tracked id: they show as 0 (anyone).
    if (readers_.load(std::memory_order_relaxed) > tracked_) out.holders.push_back(0);
  }
  describe_waiters(waiting_writers_, out);
  describe_waiters(waiting_readers_, out);
  users_.fill(out, /*wakeable_from_outside=*/false);
}

}  // namespace detail

RWMutex::RWMutex(std::string name, std::source_location site)
    : core_(std::make_unique<detail::RWMutexCore>(std::move(name), site)) {}
RWMutex::~RWMutex() = default;

void RWMutex::lock(std::source_location site) {
  core_->lock(site);
  detail::trace::on_lock_acquire(core_->object_id(), false, site);
}
bool RWMutex::try_lock(std::source_location site) {
  if (!core_->try_lock()) return false;
  detail::trace::on_lock_acquire(core_->object_id(), false, site);
  return true;
}
void RWMutex::unlock(std::source_location site) { core_->unlock(site); }
void RWMutex::rlock(std::source_location site) {
  core_->rlock(site);
  detail::trace::on_lock_acquire(core_->object_id(), true, site);
}
bool RWMutex::try_rlock(std::source_location site) {
  if (!core_->try_rlock()) return false;
  detail::trace::on_lock_acquire(core_->object_id(), true, site);
  return true;
}
void RWMutex::runlock(std::source_location site) { core_->runlock(site); }
bool RWMutex::write_locked() const noexcept { return core_->write_locked(); }
// The API speaks of fibers only: plain threads' ids (kPlainThreadTag | N)
// stay inside, for the detector.
std::uint64_t RWMutex::writer() const noexcept {
  const std::uint64_t w = core_->writer();
  return detail::is_plain_thread_id(w) ? 0 : w;
}
std::size_t RWMutex::reader_count() const noexcept { return core_->reader_count(); }
std::vector<std::uint64_t> RWMutex::readers() const {
  std::vector<std::uint64_t> ids = core_->readers();
  std::erase_if(ids, [](std::uint64_t id) { return detail::is_plain_thread_id(id); });
  return ids;
}
std::uint64_t RWMutex::id() const noexcept { return core_->object_id(); }
const std::string& RWMutex::name() const noexcept { return core_->object_name(); }

}  // namespace tether
