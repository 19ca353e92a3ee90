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

// Plain threads (OS threads that are not running a fiber) appear among an
// object's users under an id of their own: kPlainThreadTag | N, N = 1, 2, ...
// in the order the threads first used an object, never reused. The tag keeps
// the space apart from fiber ids (a counter from 1) in the same vectors, so
// the detector knows *which* plain thread used an object and can tell one
// blocked in ThreadLocker::call() (WaitGraph::plain_threads) from one that
// may still act. Id 0 still means "some plain thread" (an unknown one: the
// trace analyzer's graphs, holders): always wakeable from outside.
inline constexpr std::uint64_t kPlainThreadTag = std::uint64_t{1} << 63;
constexpr bool is_plain_thread_id(std::uint64_t id) noexcept {
  return (id & kPlainThreadTag) != 0;
}
constexpr std::uint64_t plain_thread_number(std::uint64_t id) noexcept {
  return id & ~kPlainThreadTag;
}

// What an object tells the wait-for graph about itself (see describe()).
// User ids are fiber ids or plain thread ids (above); 0 is an unknown plain
// thread.
struct ObjectState {
  std::vector<std::uint64_t> holders;    // mutex: its holder; rwmutex: writer or readers
  std::uint64_t writer = 0;              // rwmutex: the fiber holding it for writing
  std::vector<std::uint64_t> users;      // fibers (and plain threads) known to have used it
  std::vector<std::uint64_t> senders;    // chan: fibers (and plain threads) that sent
  std::vector<std::uint64_t> receivers;  // chan: fibers (and plain threads) that received
  // Fibers queued on it right now: (fiber id, true for the send side of a channel).
  std::vector<std::pair<std::uint64_t, bool>> waiting;
  std::size_t capacity = 0, size = 0;    // chan
  bool closed = false;                   // chan
  std::int64_t count = 0;                // wait_group counter
  // Wakeable from outside whatever the users do: more users than remembered,
  // a plain thread blocked on it right now, or (trace analyzer) a plain
  // thread among its users. A plain thread recorded by id in the vectors
  // above does not set it: the detector judges that thread itself.
  bool used_by_plain_thread = false;
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
// The calling plain thread's id (kPlainThreadTag | N), assigned on first use.
// Only for threads with no current fiber: fibers use their fiber id.
std::uint64_t plain_thread_id() noexcept;
// Who is acting, as recorded among an object's users: the current fiber's
// id, else the plain thread's id.
std::uint64_t current_user_id() noexcept;
// The calling OS thread's name as shown in dumps: a locker's name, "pool-3", "main", ...
std::string current_thread_name();

// Throws misuse_error for the calling fiber/thread: "what" plus who and where.
[[noreturn]] void throw_misuse(const std::string& what, std::source_location site);

}  // namespace tether::detail
