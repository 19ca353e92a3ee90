// Stack capture (internal): the raw program counters of every fiber, taken
// consistently while the program runs.
//
// How a capture works ("stop the world"):
//  1. The capturing thread takes the fiber registry's lock (so no fiber is
//     created or destroyed meanwhile) and the worker-thread table's lock (so
//     no worker thread starts or exits meanwhile), and allocates every buffer
//     it will need: nothing below allocates memory or takes a lock a stopped
//     thread could hold.
//  2. It sends kStopSignal (a real-time signal) to every Worker thread (pool
//     and locker threads). Each handler records the fiber running on its
//     thread from the handler's ucontext (libunwind, UNW_INIT_SIGNAL_FRAME),
//     reports that it is held, and waits on a futex inside the handler until
//     it is released. A sample that lands inside a context switch (where the
//     registers describe neither fiber) is thrown away and taken again. A
//     thread blocked in a system call is interrupted and held too; SA_RESTART
//     resumes its call afterwards.
//  3. While every worker is held, no parked fiber can be resumed, so parked
//     fibers are unwound from their saved Boost.Context registers (the layout
//     of that block is derived by a self-test at start-up, not assumed).
//  4. Everyone is released; symbolizing and formatting happen afterwards.
// A thread that does not answer within a few seconds is reported as such and
// the parked fibers are then not unwound (one of them could be resumed).
//
// Stacks are stored as the kInner innermost and the kOuter outermost PCs (the
// middle of a deep recursion is elided, as Go does), in fixed-size buffers so
// the signal handlers never allocate.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <source_location>
#include <string>
#include <vector>

#include "fcontext_layout.h"  // fcontext_layout_known()
#include "tether/wait_reason.h"

struct ucontext_t;

namespace tether::detail {

struct Fiber;
struct Worker;

// Why a stack is (partly) missing.
enum class StackStatus : std::uint8_t {
  ok,
  not_started,     // the fiber has not run yet: no frames
  in_transition,   // it kept switching contexts while being sampled
  no_answer,       // its thread (or a thread that could resume it) did not stop
  layout_unknown,  // the saved-register self-test failed: parked fibers cannot be unwound
  finished,        // it finished while the capture was being prepared
};
const char* to_string(StackStatus s) noexcept;

// A fixed-capacity stack sample. Safe to fill in a signal handler.
struct RawStack {
  static constexpr std::uint32_t kInner = 64;
  static constexpr std::uint32_t kOuter = 64;

  std::uintptr_t inner[kInner];  // innermost first
  std::uintptr_t outer[kOuter];  // ring buffer of the outermost frames seen so far
  std::uint32_t total = 0;       // frames seen (may exceed kInner + kOuter)
  // inner[0] is the exact interrupted PC (a signal frame), not a return
  // address: symbolize it as is rather than as pc - 1.
  bool first_is_exact = false;
  StackStatus status = StackStatus::ok;

  void clear() noexcept {
    total = 0;
    first_is_exact = false;
    status = StackStatus::ok;
  }
  void push(std::uintptr_t pc) noexcept {
    if (total < kInner) {
      inner[total] = pc;
    } else {
      outer[(total - kInner) % kOuter] = pc;
    }
    ++total;
  }
  // The kept PCs innermost first, and how many frames between the inner and
  // the outer part were dropped (they sit after `elided_after` PCs).
  std::vector<std::uintptr_t> pcs(std::size_t* elided_after, std::size_t* elided) const;
};

// The state of one OS thread that runs fibers, as captured.
struct ThreadSnapshot {
  std::string name;
  int tid = 0;
  bool is_pool = false;
  std::uint64_t running_fiber = 0;  // 0: none
  bool idle = false;                // asleep waiting for work
  bool in_syscall = false;
  bool answered = true;             // false: did not stop for the capture
  bool crashed = false;             // the thread whose crash triggered the capture
};

// One fiber, as captured. Wait state fields are read just after the world is
// released (they describe the same instant up to a few microseconds).
struct FiberSnapshot {
  std::uint64_t id = 0;
  std::string name;
  std::uint64_t parent = 0;
  std::source_location created_at;
  WaitReason reason = WaitReason::runnable;
  std::int64_t since_ns = 0;         // when it entered that state (coarse monotonic)
  std::uint64_t object_id = 0;
  std::string object;                // "chan 4 \"requests\"", "fiber 3", ... or empty
  std::string syscall;               // "read(fd 5)" when in a tether::sys call
  std::string locked_to;             // the locker thread's name, or empty
  std::string running_on;            // the thread running it now, or empty
  bool is_main = false;              // fiber 1 of the current run()
  RawStack stack;
};

struct Capture {
  std::int64_t taken_at_ns = 0;       // coarse monotonic, comparable with since_ns
  std::int64_t wall_time_ns = 0;      // CLOCK_REALTIME
  std::vector<ThreadSnapshot> threads;
  std::vector<FiberSnapshot> fibers;  // sorted by id
};

// Captures every live fiber (only_ids empty) or the given ones. Callable from
// any thread that is not inside a signal handler: a plain thread, the dump
// thread, or a fiber (whose own stack is then taken in place). Capturing
// threads are serialized. Returns an empty capture outside tether::run().
Capture capture_fibers(const std::vector<std::uint64_t>& only_ids = {});

// The calling thread's own stack, from here (this function's caller first).
// For a fiber it stops at the fiber's bottom. No stop-the-world: cheap
// (a few microseconds), used where one stack is wanted now (lock-order edges).
void capture_current_stack(RawStack* out) noexcept;

// Worker threads register themselves (at start, before running any fiber)
// and unregister before they exit. Registration records the pthread_t for
// kStopSignal and installs a sigaltstack, so crash handlers (a fiber stack
// overflow above all) have a stack to run on.
void register_worker_thread(Worker* w) noexcept;
void unregister_worker_thread() noexcept;

// Installs the kStopSignal handler and runs the saved-register self-test.
// Idempotent; called by install_dump_handlers().
void init_stack_capture();


// For the crash handler (fiber_dump.cpp), on the crashing thread inside its
// signal handler: samples the interrupted context into the thread's slot and
// marks the thread held, so a capture started from another thread neither
// signals it nor waits for it. Returns false on a thread that runs no fibers.
// `fault_addr` is checked against the running fiber's guard page;
// *overflow_fiber / *stack_size are set when it hit it.
bool hold_crashed_thread(ucontext_t* uc, const void* fault_addr, std::uint64_t* fiber_id,
                         std::uint64_t* overflow_fiber, std::size_t* stack_size) noexcept;
// Samples the calling thread from a ucontext (any thread; for crashes on plain threads).
void sample_context(ucontext_t* uc, RawStack* out) noexcept;
// The crashed thread's slot is released once the dump is written.
void release_crashed_thread() noexcept;

}  // namespace tether::detail
