// The object registry, misuse errors and "who am I" helpers.
#include "sync_object.h"

#include <fmt/format.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <mutex>

#include "fiber_impl.h"
#include "fiber_registry.h"
#include "lock_order.h"
#include "object_registry.h"
#include "scheduler.h"
#include "tether/errors.h"
#include "trace_events.h"

namespace tether::detail {

ObjectRegistry& ObjectRegistry::instance() {
  static ObjectRegistry* r = new ObjectRegistry;  // outlives static destructors
  return *r;
}

void ObjectRegistry::add(SyncObject* o) {
  std::lock_guard lk(mu_);
  o->id_ = next_id_++;
  o->reg_prev_ = nullptr;
  o->reg_next_ = head_;
  if (head_) head_->reg_prev_ = o;
  head_ = o;
  ++count_;
}

void ObjectRegistry::remove(SyncObject* o) {
  std::lock_guard lk(mu_);
  (o->reg_prev_ ? o->reg_prev_->reg_next_ : head_) = o->reg_next_;
  if (o->reg_next_) o->reg_next_->reg_prev_ = o->reg_prev_;
  --count_;
}

std::uint64_t ObjectRegistry::allocate_id() {
  std::lock_guard lk(mu_);
  return next_id_++;
}

std::size_t ObjectRegistry::size() const {
  std::lock_guard lk(mu_);
  return count_;
}

SyncObject::SyncObject(ObjectKind kind, std::string name, std::source_location site)
    : id_(0),
      kind_(kind),
      name_(std::move(name)),
      site_(site),
      creator_(current_fiber_id()),
      watermark_(FiberRegistry::instance().peek_next_id()) {
  ObjectRegistry::instance().add(this);
  if (kind != ObjectKind::chan) trace::on_object_create(id_, kind, name_, site);  // chan: with capacity
}

SyncObject::~SyncObject() {
  unregister();
  if (lock_order_on() && (kind_ == ObjectKind::mutex || kind_ == ObjectKind::rwmutex))
    lock_order_forget(id_);  // ids are never reused: this only frees memory
}

void SyncObject::unregister() noexcept {
  if (registered_.exchange(false)) {
    ObjectRegistry::instance().remove(this);
    trace::on_object_destroy(id_);
  }
}

std::uint64_t current_fiber_id() noexcept {
  Fiber* f = current_fiber();
  return f ? f->id : 0;
}

namespace {
std::atomic<std::uint64_t> g_next_plain{1};
constinit thread_local std::uint64_t tls_plain_id __attribute__((tls_model("initial-exec"))) = 0;
}  // namespace

std::uint64_t plain_thread_id() noexcept {
  if (tls_plain_id == 0)
    tls_plain_id = kPlainThreadTag | g_next_plain.fetch_add(1, std::memory_order_relaxed);
  return tls_plain_id;
}

std::uint64_t current_user_id() noexcept {
  Fiber* f = current_fiber();
  return f ? f->id : plain_thread_id();
}

std::string current_thread_name() {
  if (Worker* w = current_worker()) return w->name;
  return fmt::format("thread {}", static_cast<long>(syscall(SYS_gettid)));
}

[[noreturn]] void throw_misuse(const std::string& what, std::source_location site) {
  const std::uint64_t fid = current_fiber_id();
  std::string thread = current_thread_name();
  std::string who = fid ? fmt::format("fiber {} on thread \"{}\"", fid, thread)
                        : fmt::format("{} (not a fiber)", thread);
  std::string message = fmt::format("tether: misuse: {} ({}, at {}:{})", what, who,
                                    site.file_name(), site.line());
  trace::on_misuse(message, site);
  throw misuse_error(message, fid, std::move(thread), site);
}

}  // namespace tether::detail

namespace tether {

misuse_error::misuse_error(const std::string& what, std::uint64_t fiber_id, std::string thread,
                           std::source_location site)
    : std::logic_error(what), fiber_id_(fiber_id), thread_(std::move(thread)), site_(site) {}

}  // namespace tether
