// tether/trace/event.h — one decoded event of a tether trace.
//
// This is the logical content of a trace file (docs/trace-format.md gives
// its bytes): what the runtime recorded, in the order it happened per OS
// thread. TraceReader (trace_reader.h) turns a file into a stream of Events;
// the analyses (deadlocks at a point in time, lock-order inversions, thread
// occupancy, leaks, the blocking profile, the Chrome export) consume that
// stream and know nothing of the encoding.
//
// Identities are the runtime's own, so a trace, a snapshot and a report of
// the same run name things alike: fiber ids (1 = the main fiber; 0 = "no
// fiber": a plain thread, a timer, the runtime itself), object ids (channels,
// locks, lockers...; 0 = none) and thread ids (the runtime's small thread
// ids, as in snapshots; not kernel tids).
//
// Field use per type is listed beside each enumerator; a field a type does
// not use is zero / empty. Metadata events (string, site, stack) define ids
// that later events refer to; a reader resolves them, so consumers see
// `site`/`stack` ids that are always defined (or 0 for unknown).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tether::trace {

enum class EventType : std::uint8_t {
  // --- metadata ------------------------------------------------------------
  site,           // id = site id; text = function; file, line
  stack,          // id = stack id; frames (innermost first)
  // --- threads -------------------------------------------------------------
  thread_start,   // thread; text = name; kind = "main"|"pool"|"locker"|"plain"; object = locker id; a = kernel tid
  thread_exit,    // thread
  // --- fibers --------------------------------------------------------------
  fiber_create,   // fiber (the new one), other = parent fiber, text = name, site = creation site,
                  // thread = locked_to thread id (0 = pool)
  fiber_exit,     // fiber
  run,            // thread starts (or resumes) running fiber: a switch onto it
  park,           // fiber blocks: reason, object (0 if none), site, stack, a = 1 if it has a deadline;
                  // fiber 0: `thread`, a plain thread, blocks (format 2.0)
  unpark,         // fiber becomes runnable; other = the fiber that woke it (0: a plain thread,
                  // the timer, a syscall's completion); fiber 0: `thread`, a plain thread, resumed.
                  // The reader also returns the unpark a chan_send/chan_recv's `other` implies
  thread_lock,    // fiber is now locked to `thread` (ThreadLocker::lock, go on a locker, lock_os_thread);
                  // object = locker id
  thread_unlock,  // fiber left the locker `object`, thread = the thread it left
  call_begin,     // fiber (0: a plain thread) calls into locker `object`; other = the fiber running it
  call_end,       // same fields as call_begin
  // --- sync objects --------------------------------------------------------
  object_create,  // object; kind = "chan"|"mutex"|"rwmutex"|"cond_var"|"wait_group"|"once"|"locker";
                  // text = name; fiber = creator; site; a = channel capacity
  object_destroy, // object
  lock_acquire,   // fiber took object; a = 1 read (rwmutex rlock), 0 write/exclusive; site; stack
  lock_release,   // fiber released object; a as in lock_acquire
  chan_send,      // fiber completed a send on object; other = the parked fiber it woke (0: none;
                  // its unpark event follows); b = 1: that fiber's receive completed with it
                  // (its chan_recv event, ok, comes first)
  chan_recv,      // fiber completed a receive on object; a = 1 ok, 0 closed; other and b as
                  // chan_send (b: the woken fiber's send completed with it)
  chan_close,     // fiber closed object
  select_done,    // fiber's select finished: object = the channel of the chosen case (0: default),
                  // a = case index, b = 1 send, 0 receive
  wg_add,         // fiber added a (may be negative) to WaitGroup object; b = counter after
  cond_signal,    // fiber signalled object; a = 1 broadcast
  // --- system calls --------------------------------------------------------
  syscall_enter,  // fiber (0: plain thread) on thread; text = call name ("read"); a = fd (-1 none);
                  // b = peer fd of a tracked pipe/socketpair (-1 none); site
  syscall_exit,   // fiber on thread; a = result, b = errno (0 on success)
  fd_pair,        // fiber created a pipe/socketpair: a, b = the two fds
  // --- verdicts ------------------------------------------------------------
  misuse,         // fiber; text = the misuse_error message; site
  finding,        // the online detector reported: kind = finding kind ("deadlock", ...),
                  // text = pattern ("lock-cycle", ...), fibers = the fibers involved
  // --- the trace itself ----------------------------------------------------
  lost,           // thread dropped a = N events just before this one (the trace writer fell behind)
  // --- end -----------------------------------------------------------------
  end,            // the runtime shut down cleanly (tether::run returned); a = exit status
};

// "fiber_create", "park", ... (stable, used in JSON and error messages).
std::string_view to_string(EventType t) noexcept;

struct Frame {
  std::string function;  // demangled; may be empty when unknown
  std::string file;      // may be empty
  int line = 0;
  std::uint64_t pc = 0;
};

struct Event {
  EventType type = EventType::end;
  std::int64_t time_ns = 0;   // since the trace's start (monotonic clock)
  std::uint64_t thread = 0;   // the OS thread the event happened on (or names, see above)
  std::uint64_t fiber = 0;
  std::uint64_t object = 0;
  std::uint64_t other = 0;
  std::uint64_t id = 0;       // site / stack id for metadata events
  std::uint32_t site = 0;     // site id, 0: unknown
  std::uint32_t stack = 0;    // stack id, 0: none captured
  std::uint8_t reason = 0;    // park: tether::WaitReason's numeric value (runtime/include/tether/wait_reason.h)
  std::int64_t a = 0, b = 0;  // per-type integers (see EventType)
  std::string kind;           // thread kind, object kind, finding kind
  std::string text;           // names, call names, messages, function of a site
  std::string file;           // site
  int line = 0;               // site
  std::vector<Frame> frames;  // stack
  std::vector<std::uint64_t> fibers;  // finding
};

}  // namespace tether::trace
