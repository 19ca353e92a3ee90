// Fiber dumps (internal): Go-style text for every fiber's wait state and
// stack (grammar: docs/dump-format.md), and the triggers that print them.
//
// Triggers, installed once per process by install_dump_handlers() (called at
// the start of tether::run):
//  - SIGQUIT: the dump on stderr, then exit status 2 (as Go).
//  - TETHER_DUMP_SIGNAL=USR1 (default) | USR2 | none: the dump on stderr and
//    in /tmp/tether-PID.dump (written whole, then renamed into place: that is
//    what `tether dump PID` waits for); the program goes on.
//  - Crashes (unless TETHER_DUMP_ON_CRASH=0): SIGSEGV, SIGBUS, SIGFPE, SIGILL,
//    SIGABRT and std::terminate (an uncaught exception) print "fatal error:
//    REASON", then the dump, then the previous handler (or the default
//    action) runs: the process dies of the same signal. A fault in the guard
//    page of a fiber's stack is reported as "stack overflow in fiber N".
// Signal handlers never format or allocate: USR1/QUIT only post a semaphore
// to a dump thread; a crashing thread records its own stack, hands over to
// the dump thread and waits (at most ~15 s) for the dump to be written.
//
// For the deadlock detector and other reports: capture_fibers()
// (stack_capture.h) takes a consistent snapshot; symbolize_stack() turns a
// fiber's raw stack into frames; format_fibers() prints a chosen subset of a
// capture under a caller-given header line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "stack_capture.h"
#include "symbolizer.h"

namespace tether::detail {

// A fiber's stack ready to print: symbolized, runtime-internal frames trimmed
// from the top (the first frame is the user's call into tether, or the user
// code itself) and from the bottom (the fiber's entry), and cut to the 50
// innermost + 50 outermost frames with `elided` frames in between.
struct SymbolizedStack {
  std::vector<Frame> frames;
  std::size_t elided_after = 0;  // the gap follows this many frames
  std::size_t elided = 0;
  StackStatus status = StackStatus::ok;
};
SymbolizedStack symbolize_stack(const RawStack& raw);

// "fiber 7 \"name\" [chan send, 3 seconds, chan 4 \"requests\", locked to thread \"gl\"]:"
std::string format_fiber_header(const FiberSnapshot& f, std::int64_t now_ns);
// One fiber's block: header, frames, "created by" line (no trailing blank line).
std::string format_fiber(const FiberSnapshot& f, std::int64_t now_ns);

// The fibers of `cap` whose ids are listed (all when ids is empty), in id
// order, separated by blank lines, after `header` (a line, printed as is,
// e.g. "fatal error: all fibers are asleep - deadlock!").
std::string format_fibers(const Capture& cap, std::string_view header,
                          const std::vector<std::uint64_t>& ids = {});

// The whole dump: the process/time/threads block, then every fiber.
// `why` names the trigger ("SIGUSR1", "requested", ...).
std::string format_dump(const Capture& cap, std::string_view why);

// capture_fibers() + format_dump().
std::string dump_text(std::string_view why);

// Installs the signal, crash and terminate handlers and starts the dump
// thread. Once per process; later calls do nothing.
void install_dump_handlers();

// The signal TETHER_DUMP_SIGNAL selected (0: none).
int dump_signal() noexcept;

}  // namespace tether::detail
