// SyncObject: the registry entry every channel, mutex, locker, ... carries.
//
// Objects get ids from one counter (1, 2, 3, ... separate from fiber ids), a
// kind, an optional name and their creation site. The registry lets a
// separate thread (detector, dump, snapshot) enumerate them consistently.
#pragma once

#include <cstdint>
#include <source_location>
#include <string>
#include <string_view>

namespace tether::detail {

struct Fiber;

enum class ObjectKind : std::uint8_t { chan, mutex, rwmutex, cond_var, wait_group, once, locker };
std::string_view to_string(ObjectKind k) noexcept;

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

 private:
  friend class ObjectRegistry;
  std::uint64_t id_;
  ObjectKind kind_;
  std::string name_;
  std::source_location site_;
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
