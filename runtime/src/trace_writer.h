// The trace session and its writer thread (internal).
//
// start_session(path) opens the file, writes the header and starts the
// writer thread; from then on every thread's hooks record (trace_events.h).
// The writer writes whole blocks (docs/trace-format.md): each full buffer as
// soon as it is handed over, and every 100 ms whatever each thread recorded
// since, so a `kill -9` loses at most about the last 100 ms. Site and stack
// definitions go first, symbolized on this thread.
//
// Failure is never fatal to the program: a file that cannot be opened, or a
// write that fails (disk full, `ulimit -f`), prints one line on stderr and
// stops tracing; the file is cut back to its last complete block.
#pragma once

#include <cstdint>
#include <string>

#include "trace_buffer.h"

namespace tether::detail::trace {

// Starts tracing to `path` (truncating it). False (with the message printed)
// if the file cannot be created or a session is already running.
bool start_session(const std::string& path);

// Writes everything recorded, then an `end` record with `status`, and closes
// the file. The calling thread's records come before the end record; records
// other threads make while this runs may be dropped. No-op without a session.
void stop_session(std::int64_t status);

// Blocks until everything recorded so far (by every thread) is written.
void flush_session();

// For crash handlers and _exit paths: asks the writer thread to write out
// everything recorded so far, without symbolizing, and waits for it (up to
// about two seconds). Async-signal-safe; no-op without a session.
void flush_for_crash() noexcept;

// For exits that skip tether::run's return (the watchdog's _exit, exit()
// from a fiber): writes out everything, symbolized, and waits (bounded).
// No end record: the trace shows the program as it was when it stopped.
void flush_before_exit() noexcept;

// The session's file, or empty.
std::string session_path();

// ---- for trace_events.cpp ----

// Registers the calling thread (id, kind...) with the session; nullptr if
// no session is running.
ThreadTrace* register_thread(std::uint64_t thread_id) noexcept;
// An empty buffer, or nullptr when every buffer is in use (the writer is behind).
TraceBuffer* acquire_buffer() noexcept;
// Gives a buffer (full, or the last one of an exiting thread) to the writer.
void hand_off(TraceBuffer* b) noexcept;
// Returns a buffer nobody will write to again (a previous session's) to the pool.
void release_buffer(TraceBuffer* b) noexcept;

// Tests only: stop the writer's rounds (buffers pile up, as when the disk is
// slow), and cap the number of buffers (0: the default).
void testing_pause_writer(bool paused) noexcept;
// Benchmarks only: while suspended, the session records nothing (the hooks
// see tracing() false) and keeps its file and buffers; resuming goes on
// with the same session. Lets a benchmark alternate traced and untraced
// stretches of one run. (The first records after resuming may share a
// reading taken before the suspension: the trace's 1 us bound on shared
// readings does not hold across one.)
void testing_suspend_recording(bool suspended) noexcept;
void testing_set_max_buffers(std::size_t n) noexcept;

}  // namespace tether::detail::trace
