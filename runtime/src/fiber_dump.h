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
// to a dump thread; a crashing thread (or one in std::terminate) records its
// own stack, hands over to the dump thread and waits (at most ~15 s) for the
// dump to be written.
//
// When memory has run out, these dumps still come out: address space
// reserved at start (fiber_dump_reserve.h) is given back before a dump that
// ends the process, or when a dump fails for want of memory, and the dump
// is tried again; failing that, it is printed with raw frames (module +
// offset, no symbolizer), block by block. Only when even the capture cannot
// be made does "(no dump: it failed, out of memory)" replace it.
//
// For the deadlock detector and other reports: capture_fibers()
// (stack_capture.h) takes a consistent snapshot; symbolize_stack()
// (symbolized_stack.h) turns a fiber's raw stack into frames;
// format_fibers() (fiber_dump_format.h) prints a chosen subset of a capture
// under a caller-given header line.
#pragma once

#include <string>
#include <string_view>

#include "fiber_dump_format.h"
#include "stack_capture.h"
#include "symbolized_stack.h"
#include "symbolizer.h"

namespace tether::detail {

// capture_fibers() + format_dump(), grouped as TETHER_DUMP_GROUP says.
std::string dump_text(std::string_view why);

// Installs the signal, crash and terminate handlers, reserves the dump's
// emergency memory and starts the dump thread. Once per process; later
// calls do nothing.
void install_dump_handlers();

// The signal TETHER_DUMP_SIGNAL selected (0: none).
int dump_signal() noexcept;

}  // namespace tether::detail
