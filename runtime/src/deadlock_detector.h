// DeadlockDetector: which fibers can never run again, and why (internal).
//
// find_deadlocks() works on one WaitGraph. A fiber *can progress* if it is
// running or runnable (on a thread that is not stuck), sleeping or waiting
// with a deadline, in a system call that something live (or the outside
// world) can complete, or blocked on something that a fiber which can
// progress could release: a mutex's holder, a joined fiber, a call()'s
// fiber, or one of the object's *possible wakers*. That is the least fixed
// point, computed as reachability from the fibers that progress by
// themselves; every other blocked fiber is deadlocked.
//
// Possible wakers of an object are what the runtime can know without a
// garbage collector: its creator, every fiber that used it (or, for a pipe,
// either end), and every fiber started after the object by one of those
// (transitively) — a fiber can only have been handed the object that way.
// A plain thread (not a fiber) that used an object counts as able to wake it
// from outside, unless it is blocked in ThreadLocker::call() (the graph's
// plain_threads): then it can act only once its call fiber can, and if that
// fiber is deadlocked too, it is no waker (the report names it: "thread N
// (not a fiber) (waiting in call() ... for fiber C)"). The same holds for a
// plain thread holding a mutex (or rwmutex) a fiber waits for: it releases it
// unless it is blocked in call() with its call fiber deadlocked (the cycle
// "call fiber -> mutex -> plain:N -> call fiber" when the call needs it).
// This errs on the side of silence: a fiber that obtained an object some
// other way (a global, a channel of channels) counts as a waker only once it
// has used it; so does a plain thread.
//
// Deadlocked fibers are grouped into sets connected by waits and each set
// is classified (lock-cycle, channel-cycle, shared-thread-syscall,
// self-request, call-self, orphan-wait) with the cycle (or chain) that holds it and
// an explanation of why nothing outside can break it. When no fiber at all
// can progress the result says so (global: "all fibers are asleep").
#pragma once

#include <string>
#include <vector>

#include "wait_graph.h"

namespace tether::detail {

struct DeadlockFinding {
  std::vector<Deadlock> deadlocks;  // one per deadlocked set
  bool global = false;              // no fiber can progress at all
  std::vector<std::uint64_t> deadlocked;  // every deadlocked fiber, sorted
};

DeadlockFinding find_deadlocks(const WaitGraph& g);

// Human-readable report of one deadlock (several lines, no trailing newline).
std::string describe_deadlock(const WaitGraph& g, const Deadlock& d);

// "chan 3 \"requests\"", "mutex 5", "thread \"gl\"", "fiber 7"
std::string describe_node(const WaitGraph& g, const std::string& node);

}  // namespace tether::detail
