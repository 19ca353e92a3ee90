// tether/wait_reason.h — why a fiber is not running.
//
// Every fiber always carries one of these, like Go's `waitreason`. The names
// returned by to_string() are the ones printed in dumps ("chan receive",
// "mutex lock", ...), written to traces and snapshots, and matched by tests;
// they are part of tether's output format and do not change.
#pragma once

#include <cstdint>
#include <string_view>

namespace tether {

enum class WaitReason : std::uint8_t {
  running,             // executing on its thread
  runnable,            // ready, waiting for its thread (or any pool thread) to pick it
  chan_send,           // blocked in Chan::send
  chan_receive,        // blocked in Chan::recv / range-for
  select,              // blocked in select() over several cases
  select_no_cases,     // select() with no cases: blocks forever
  mutex_lock,          // Mutex::lock
  rwmutex_rlock,       // RWMutex::rlock
  rwmutex_lock,        // RWMutex::lock
  cond_wait,           // CondVar::wait
  waitgroup_wait,      // WaitGroup::wait
  once_wait,           // Once::call while another fiber runs the function
  join,                // FiberRef::join
  sleep,               // sleep_for / sleep_until
  syscall,             // inside a tether::sys:: call (occupies its OS thread)
  waiting_for_thread,  // moving to a locked thread (ThreadLocker::lock) or back to the pool
  call,                // ThreadLocker::call, waiting for the function's result
  dead,                // finished
};

// The stable, human-readable name ("chan receive", "waiting for thread", ...).
std::string_view to_string(WaitReason r) noexcept;

}  // namespace tether
