// tether/dump.h — Go-style dumps of every fiber's state and stack.
//
//   fiber 7 "server" [chan send, 3 seconds, chan 4 "requests", locked to thread "gl"]:
//   tether::Chan<int>::send(int, std::source_location)
//   	/src/include/tether/chan.h:88 +0x4c
//   serve(tether::Chan<int>&)
//   	/src/server.cpp:42 +0x2d
//   created by fiber 1 at /src/main.cpp:17
//
// A dump starts with a block naming the process, the time and the threads
// that run fibers (each running a fiber, idle or in a syscall), then lists
// every live fiber in id order; identical fibers (same state, creation site
// and frames) print once as a group, "fibers 12, 13 ... (1000 fibers)
// [...]:", unless TETHER_DUMP_GROUP=0. docs/dump-format.md gives the grammar.
//
// The dump is consistent: every thread that runs fibers is briefly stopped
// (a real-time signal; a thread blocked in a system call is interrupted and
// its call restarted) while the stacks are taken, so no fiber moves while it
// is unwound. Parked fibers are unwound from their saved contexts, so a dump
// works while a locked thread is stuck in a system call. 10k fibers take a
// few tens of milliseconds.
//
// Besides these calls, dumps are printed without any code change:
//  - on SIGQUIT (then the process exits with status 2, as Go does);
//  - on SIGUSR1 (TETHER_DUMP_SIGNAL=USR1|USR2|none), also written to
//    /tmp/tether-PID.dump, and the program goes on: `tether dump PID`;
//  - on a crash (SIGSEGV, SIGBUS, SIGFPE, SIGILL, abort(), an uncaught
//    exception), after a "fatal error: ..." line; a fiber stack overflow is
//    named as such. TETHER_DUMP_ON_CRASH=0 turns the crash handlers off.
// The handlers are installed by the first tether::run().
#pragma once

#include <string>

namespace tether {

// The dump as text. Callable from any fiber or thread (not from a signal
// handler), inside or outside tether::run (outside, it says no runtime runs).
std::string dump_string();

// Writes the dump to a file descriptor.
void write_dump(int fd);

}  // namespace tether
