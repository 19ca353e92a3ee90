// tether/runtime.h — starting and stopping the runtime.
//
//   int main() { return tether::run([] { ... fiber 1 ... return 0; }); }
//
// run(fn) starts the worker pool and the runtime's monitor thread, then runs
// fn as fiber 1 on the calling thread, which becomes the thread of
// ThreadLocker::main(): fiber 1 starts locked to it (as a Go program whose
// init called LockOSThread), so GUI or other main-thread-only calls made by
// fiber 1 happen on the process's main thread. Fiber 1 may call
// ThreadLocker::main().unlock() to move to the pool.
//
// run() returns fn's result (or rethrows what fn threw) as soon as fiber 1
// has finished, like Go's main returning. Fibers still alive at that moment
// are abandoned: they are never resumed, their destructors do not run, and
// their memory stays allocated (it remains reachable, so leak checkers stay
// quiet). Pool and locker threads that are idle stop and are joined; a
// thread still running a fiber or blocked in a system call is detached. A
// later run() starts a fresh runtime; fiber ids keep counting.
//
// Environment: TETHER_PROCS (pool threads, default: hardware threads),
// TETHER_STACK_KB (default fiber stack, default 64).
#pragma once

#include <optional>
#include <type_traits>
#include <utility>

#include "tether/fiber.h"
#include "tether/task.h"

namespace tether {

namespace detail {
// Runs fn as fiber 1 on the calling thread; returns when it has finished.
// Rethrows an exception that escaped fn.
void run_main(Task fn);
}  // namespace detail

// True between the start of run() and its return.
bool running() noexcept;

template <class F>
auto run(F&& fn) -> std::invoke_result_t<F&> {
  using R = std::invoke_result_t<F&>;
  if constexpr (std::is_void_v<R>) {
    detail::run_main(Task([&fn] { fn(); }));
  } else {
    std::optional<R> result;
    detail::run_main(Task([&fn, &result] { result.emplace(fn()); }));
    return std::move(*result);
  }
}

}  // namespace tether
