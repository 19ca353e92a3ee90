// tether/thread_locker.h — N fibers locked to one OS thread.
//
// A ThreadLocker owns one OS thread (a new one from make(), or the process's
// main thread from main()). That thread runs only fibers locked to it, one
// at a time, switching between them in user space whenever one blocks; it
// sleeps when none is ready. This is the N:1 locking that Go's
// LockToRecvOSThread proposal asked for: code that must run on one thread
// (a GUI toolkit, OpenGL, ptrace, setns) can be written as several
// cooperating fibers instead of one "syscall server".
//
// The price, which tether's detector watches: a fiber that blocks the shared
// thread in a system call, or runs for long without blocking, stops every
// other fiber locked there.
//
// Lifetime: a locker's thread exits when the last fiber locked to it (by
// go() or lock()) finishes or unlocks; the locker is then *finished*, and
// go(), lock() and call() on it raise misuse_error. A locker that never had a
// locked fiber serves call() until the runtime stops. main() never finishes.
//
// Misuse (raises tether::misuse_error naming the fiber, thread and site):
// lock() while already locked to any locker, unlock() when not locked to this
// locker, lock()/go()/call() on a finished locker, and call() from the
// locker's own thread outside a fiber (the thread would wait for itself).
#pragma once

#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <source_location>
#include <string>
#include <type_traits>
#include <utility>

#include "tether/fiber.h"
#include "tether/task.h"

namespace tether {

namespace detail {
struct Locker;
}

class ThreadLocker {
 public:
  // A new dedicated OS thread named `name` (also its pthread name, cut to 15 bytes).
  static ThreadLocker make(std::string name,
                           std::source_location site = std::source_location::current());
  // The process's main thread (the one that called tether::run).
  static ThreadLocker main();

  // Starts fn as a fiber locked to this locker's thread.
  FiberRef go(Task fn, FiberOptions opts = {},
              std::source_location site = std::source_location::current());

  // Moves the calling fiber onto this locker's thread; when lock() returns the
  // fiber runs there, and stays there until unlock().
  void lock(std::source_location site = std::source_location::current());
  // Moves the calling fiber back to the worker pool.
  void unlock(std::source_location site = std::source_location::current());

  // Runs fn on this locker's thread and returns its value (or rethrows its
  // exception). Callable from any fiber and from plain threads; a fiber that
  // already runs on this thread runs fn directly.
  template <class F>
  auto call(F&& fn, std::source_location site = std::source_location::current())
      -> std::invoke_result_t<F&> {
    using R = std::invoke_result_t<F&>;
    if constexpr (std::is_void_v<R>) {
      call_task(Task([&fn] { fn(); }), site);
    } else {
      std::optional<R> result;
      call_task(Task([&fn, &result] { result.emplace(fn()); }), site);
      return std::move(*result);
    }
  }

  const std::string& name() const noexcept;
  std::uint64_t id() const noexcept;   // object id in dumps, traces and graphs
  int tid() const noexcept;            // the thread's kernel id; 0 before it starts
  bool finished() const noexcept;

  ThreadLocker(const ThreadLocker&) = default;
  ThreadLocker& operator=(const ThreadLocker&) = default;
  friend bool operator==(const ThreadLocker& a, const ThreadLocker& b) noexcept {
    return a.s_ == b.s_;
  }

  explicit ThreadLocker(std::shared_ptr<detail::Locker> s) noexcept : s_(std::move(s)) {}
  detail::Locker* state() const noexcept { return s_.get(); }

 private:
  void call_task(Task fn, std::source_location site);
  std::shared_ptr<detail::Locker> s_;
};

// Go's LockOSThread: wires the calling fiber to an OS thread of its own that
// no other fiber will ever run on, until unlock_os_thread(). Calls nest as in
// Go: the fiber is unlocked when unlock_os_thread() was called as many times
// as lock_os_thread().
void lock_os_thread(std::source_location site = std::source_location::current());
void unlock_os_thread(std::source_location site = std::source_location::current());

}  // namespace tether
