// tether/fiber.h — starting fibers and waiting for them.
//
// A fiber is a stackful coroutine with its own mmap'd stack (default 64 KiB,
// TETHER_STACK_KB or FiberOptions::stack_size; a guard page below catches
// overflow). Fibers are cooperative: one runs on an OS thread until it blocks
// in a tether operation (channel, mutex, sleep, join, tether::sys call, ...)
// or calls yield(). Fibers started with go() run on the worker pool
// (TETHER_PROCS threads, default: the number of hardware threads) and may
// move between pool threads whenever they block; fibers started with
// ThreadLocker::go() never leave their locker's thread.
//
// Every fiber has an id (1, 2, 3, ... in creation order; fiber 1 is the one
// tether::run() starts), an optional name, the site that created it and its
// parent fiber. These appear in dumps, traces and wait graphs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <source_location>
#include <string>

#include "tether/task.h"

namespace tether {

namespace detail {
struct Fiber;
}

struct FiberOptions {
  std::string name;             // shown in dumps and graphs; empty: unnamed
  std::size_t stack_size = 0;   // bytes; 0: TETHER_STACK_KB, else 64 KiB
};

// A reference to a started fiber. Copyable; the fiber runs whether or not any
// FiberRef to it is kept (dropping it is like not joining a goroutine).
class FiberRef {
 public:
  FiberRef() = default;
  FiberRef(const FiberRef&);
  FiberRef& operator=(const FiberRef&);
  FiberRef(FiberRef&&) noexcept;
  FiberRef& operator=(FiberRef&&) noexcept;
  ~FiberRef();

  std::uint64_t id() const noexcept;
  bool done() const noexcept;
  // Blocks (parks the calling fiber, or waits on a plain thread) until the
  // fiber has finished. Joining fibers never affects the fiber itself.
  void join(std::source_location site = std::source_location::current());
  explicit operator bool() const noexcept { return f_ != nullptr; }

  explicit FiberRef(detail::Fiber* f) noexcept;  // takes a reference (internal)

 private:
  detail::Fiber* f_ = nullptr;
};

// Starts fn as a new fiber on the worker pool. Must be called while the
// runtime runs (inside tether::run, from a fiber or from any thread).
// Throws std::bad_alloc when the fiber's stack cannot be mapped (what():
// "tether: cannot allocate a fiber stack of N KiB: ..."; docs/reliability.md):
// the program may catch it and go on.
FiberRef go(Task fn, FiberOptions opts = {},
            std::source_location site = std::source_location::current());

namespace this_fiber {
// The calling fiber's id; 0 on a plain thread.
std::uint64_t id() noexcept;
// Lets the other runnable fibers of this thread (or of the pool) run first.
void yield();
}  // namespace this_fiber

}  // namespace tether
