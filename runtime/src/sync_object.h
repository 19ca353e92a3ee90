// SyncObject: the registry entry every channel, mutex, locker, ... carries.
//
// Objects get ids from one counter (1, 2, 3, ... separate from fiber ids), a
// kind, an optional name and their creation site. The registry lets a
// separate thread (detector, dump, snapshot) enumerate them consistently.
#pragma once

#include <atomic>
#include <cstdint>
#include <source_location>
#include <string>
#include <string_view>
#include <vector>

namespace tether::detail {

struct Fiber;

enum class ObjectKind : std::uint8_t { chan, mutex, rwmutex, cond_var, wait_group, once, locker };
std::string_view to_string(ObjectKind k) noexcept;

// What an object tells the wait-for graph about itself (see describe()).
// Fiber id 0 stands for a plain thread (not a fiber).
struct ObjectState {
  std::vector<std::uint64_t> holders;    // mutex: its holder; rwmutex: writer or readers
  std::uint64_t writer = 0;              // rwmutex: the fiber holding it for writing
  std::vector<std::uint64_t> users;      // fibers known to have used it (chan: both sides)
  std::vector<std::uint64_t> senders;    // chan: fibers that sent
  std::vector<std::uint64_t> receivers;  // chan: fibers that received
  // Fibers queued on it right now: (fiber id, true for the send side of a channel).
  std::vector<std::pair<std::uint64_t, bool>> waiting;
  std::size_t capacity = 0, size = 0;    // chan
  bool closed = false;                   // chan
  std::int64_t count = 0;                // wait_group counter
  bool used_by_plain_thread = false;     // a thread outside the runtime may wake its waiters
};

class SyncObject {
 public:
  SyncObject(ObjectKind kind, std::string name, std::source_location site);
  virtual ~SyncObject();
  SyncObject(const SyncObject&) = delete;
  SyncObject& operator=(const SyncObject&) = delete;

  std::uint64_t object_id() const noexcept { return id_; }
  ObjectKind kind() const noexcept { return kind_; }
  const std::string& object_name() const noexcept { return name_; }
  const std::source_location& created_at() const noexcept { return site_; }
  // The fiber that created the object (0: a plain thread) and the first fiber
  // id handed out after it: fibers with smaller ids cannot have been given it
  // at creation by the creator (the detector's reachability approximation).
  std::uint64_t creator_fiber() const noexcept { return creator_; }
  std::uint64_t fiber_watermark() const noexcept { return watermark_; }

  // Fills `out` for the wait-for graph; called from the detector's thread,
  // so implementations take the object's own lock.
  virtual void describe(ObjectState& out) const { (void)out; }

  // Leaves the registry. A class that overrides describe() must call this
  // first thing in its destructor, so the detector never describes a
  // half-destroyed object. Idempotent.
  void unregister() noexcept;

  // The registry links the object from this base constructor, before the
  // derived constructor has set the vtable pointer and built the members
  // describe() reads. A class that overrides describe() calls publish() as
  // the last thing in its constructor; snapshots skip describe() until then.
  void publish() noexcept { published_.store(true, std::memory_order_release); }
  bool published() const noexcept { return published_.load(std::memory_order_acquire); }

 private:
  friend class ObjectRegistry;
  std::uint64_t id_;
  ObjectKind kind_;
  std::string name_;
  std::source_location site_;
  std::uint64_t creator_ = 0;
  std::uint64_t watermark_ = 0;
  std::atomic<bool> registered_{true};
  std::atomic<bool> published_{false};
  SyncObject* reg_prev_ = nullptr;  // registry links, guarded by the registry's mutex
  SyncObject* reg_next_ = nullptr;
};

// The calling fiber, or nullptr on a plain thread (or outside the runtime).
Fiber* current_fiber() noexcept;
std::uint64_t current_fiber_id() noexcept;
// The calling OS thread's name as shown in dumps: a locker's name, "pool-3", "main", ...
std::string current_thread_name();

// Throws misuse_error for the calling fiber/thread: "what" plus who and where.
[[noreturn]] void throw_misuse(const std::string& what, std::source_location site);

}  // namespace tether::detail
