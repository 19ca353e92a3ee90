// Trace hooks (internal): one call at each point of the runtime where
// something happens that docs/trace-format.md records.
//
// Each hook is inline and tests one global flag (tracing()) first; with
// tracing off that is the whole cost, a well-predicted branch. With tracing
// on it appends one record to the calling thread's buffer (trace_buffer.h):
// no lock, no system call, no allocation, except the first time a thread
// records, a buffer fills, or a site is first seen (trace_sites.h).
//
// Fiber ids default to the calling fiber (0 on a plain thread); object and
// thread ids are the runtime's (snapshot ids). Hooks never throw.
#pragma once

#include <cstdint>
#include <source_location>
#include <string_view>
#include <vector>

#include "tether/wait_reason.h"
#include "trace_buffer.h"

namespace tether::detail {
enum class ObjectKind : std::uint8_t;
struct Locker;
struct Waiter;
}  // namespace tether::detail

namespace tether::detail::trace {

// tether::run's start and end: with TETHER_TRACE set, starts a session and
// records the main thread's locker; stop writes the end record (status 0, or
// -1 when fiber 1 threw).
void start_for_run(Locker& main_locker);
void stop_for_run(std::int64_t status);

// A waker argument meaning "the calling fiber".
inline constexpr std::uint64_t kCaller = ~std::uint64_t{0};

// Out of line: the recording itself.
void record_run(std::uint64_t fiber) noexcept;
void record_switch_to(std::uint64_t fiber) noexcept;
void record_park(std::uint64_t fiber, WaitReason reason, std::uint64_t object,
                 const std::source_location& site, bool timed, std::uint64_t next) noexcept;
void record_unpark(std::uint64_t fiber, std::uint64_t waker) noexcept;
void record_fiber_create(std::uint64_t fiber, std::uint64_t parent,
                         const std::source_location& site, std::string_view name) noexcept;
void record_fiber_exit(std::uint64_t fiber) noexcept;
void record_thread_lock(Rec type, std::uint64_t fiber, std::uint64_t thread,
                        std::uint64_t locker) noexcept;
void record_call(Rec type, std::uint64_t locker, std::uint64_t runner) noexcept;
void record_object_create(std::uint64_t object, ObjectKind kind, std::string_view name,
                          const std::source_location& site, std::uint64_t capacity) noexcept;
void record_object_destroy(std::uint64_t object) noexcept;
void record_lock(Rec type, std::uint64_t object, bool read,
                 const std::source_location* site) noexcept;
void record_chan(Rec type, std::uint64_t object, std::int64_t a, bool has_a) noexcept;
void record_chan_op(Rec type, std::uint64_t fiber, std::uint64_t object, std::uint64_t ok,
                    Waiter* partner) noexcept;
void record_chan_resumed(Rec type, std::uint64_t object, std::uint64_t ok) noexcept;
void record_plain_park(WaitReason reason, std::uint64_t object, const std::source_location& site,
                       bool timed) noexcept;
void record_plain_resume() noexcept;
void record_select_done(std::uint64_t object, int index, bool is_send) noexcept;
void record_wg_add(std::uint64_t object, std::int64_t delta, std::int64_t counter) noexcept;
void record_cond_signal(std::uint64_t object, bool broadcast) noexcept;
void record_syscall_enter(const char* name, int fd, const std::source_location& site) noexcept;
void record_syscall_exit(std::int64_t result, int err) noexcept;
void record_fd_pair(int fd0, int fd1) noexcept;
void record_misuse(std::string_view message, const std::source_location& site) noexcept;
void record_finding(std::string_view kind, std::string_view pattern,
                    const std::vector<std::uint64_t>& fibers) noexcept;

// The calling thread switches onto `fiber`.
inline void on_run(std::uint64_t fiber) noexcept {
  if (tracing()) record_run(fiber);
}
// A parking (or yielding) fiber's thread switches directly onto `fiber`.
// Nothing when the park just recorded named it (its `next`, format 3.0);
// else right after a park, the run record takes the park's time: one
// instant, one clock read.
inline void on_switch_to(std::uint64_t fiber) noexcept {
  if (!tracing()) return;
  TraceTls& t = tls_trace;
  if (t.pos != nullptr && t.pos == t.park_end) {  // inline: the common case, right after a park
    if (t.park_next == fiber) return;
    append_same_instant(Rec::run, fiber);
    t.run_end = t.pos;
    return;
  }
  record_switch_to(fiber);
}
// `fiber` (the caller) blocks. Captures the site's stack the first time.
// next: the fiber its thread switches to right away (0: none or not known),
// whose run the park record then says (on_switch_to writes none).
inline void on_park(std::uint64_t fiber, WaitReason reason, std::uint64_t object,
                    const std::source_location& site, bool timed,
                    std::uint64_t next = 0) noexcept {
  if (tracing()) record_park(fiber, reason, object, site, timed, next);
}
// A plain thread (not a fiber) blocks in a tether object (before it releases
// the object's lock), and resumes (woken or timed out). Recorded as park and
// unpark of fiber 0 in the thread's own blocks.
inline void on_plain_park(WaitReason reason, std::uint64_t object, const std::source_location& site,
                          bool timed) noexcept {
  if (tracing()) record_plain_park(reason, object, site, timed);
}
inline void on_plain_resume() noexcept {
  if (tracing()) record_plain_resume();
}
// `fiber` becomes runnable; waker: the fiber that woke it (0: none).
inline void on_unpark(std::uint64_t fiber, std::uint64_t waker = kCaller) noexcept {
  if (!tracing()) return;
  TraceTls& t = tls_trace;
  if (fiber == t.woke_fiber && t.pos == t.woke_end) {  // the channel record said it
    t.woke_fiber = 0;
    return;
  }
  record_unpark(fiber, waker);
}
inline void on_fiber_create(std::uint64_t fiber, std::uint64_t parent,
                            const std::source_location& site, std::string_view name) noexcept {
  if (tracing()) record_fiber_create(fiber, parent, site, name);
}
inline void on_fiber_exit(std::uint64_t fiber) noexcept {
  if (tracing()) record_fiber_exit(fiber);
}
// `fiber` is now locked to locker `locker`, whose thread is `thread`.
inline void on_thread_lock(std::uint64_t fiber, std::uint64_t thread,
                           std::uint64_t locker) noexcept {
  if (tracing()) record_thread_lock(Rec::thread_lock, fiber, thread, locker);
}
inline void on_thread_unlock(std::uint64_t fiber, std::uint64_t thread,
                             std::uint64_t locker) noexcept {
  if (tracing()) record_thread_lock(Rec::thread_unlock, fiber, thread, locker);
}
// The caller (fiber or plain thread) calls into `locker`; `runner` runs the call.
inline void on_call_begin(std::uint64_t locker, std::uint64_t runner) noexcept {
  if (tracing()) record_call(Rec::call_begin, locker, runner);
}
inline void on_call_end(std::uint64_t locker, std::uint64_t runner) noexcept {
  if (tracing()) record_call(Rec::call_end, locker, runner);
}
inline void on_object_create(std::uint64_t object, ObjectKind kind, std::string_view name,
                             const std::source_location& site,
                             std::uint64_t capacity = 0) noexcept {
  if (tracing()) record_object_create(object, kind, name, site, capacity);
}
inline void on_object_destroy(std::uint64_t object) noexcept {
  if (tracing()) record_object_destroy(object);
}
// The caller took / released a lock (read: an rwmutex read lock).
inline void on_lock_acquire(std::uint64_t object, bool read,
                            const std::source_location& site) noexcept {
  if (tracing()) record_lock(Rec::lock_acquire, object, read, &site);
}
inline void on_lock_release(std::uint64_t object, bool read) noexcept {
  if (tracing()) record_lock(Rec::lock_release, object, read, nullptr);
}
// The caller (`fiber`, 0 for a plain thread: the channel code knows which)
// completed a send / a receive (ok: a value, not closed) / a close.
// partner: the waiter the operation completed and is about to wake (or
// nullptr). The record names the partner's fiber (`woke`): the wake() that
// follows records no unpark, and a partner parked in a plain send/receive
// (not a select) is marked Waiter::traced_handoff, its completion said too.
inline void on_chan_send(std::uint64_t chan, std::uint64_t fiber,
                         Waiter* partner = nullptr) noexcept {
  if (tracing()) record_chan_op(Rec::chan_send, fiber, chan, 0, partner);
}
inline void on_chan_recv(std::uint64_t chan, std::uint64_t fiber, bool ok,
                         Waiter* partner = nullptr) noexcept {
  if (tracing()) record_chan_op(Rec::chan_recv, fiber, chan, ok ? 1 : 0, partner);
}
// The same, by a fiber (or plain thread) that just returned from its park in
// that operation: nothing when the waker's record said it (said: its
// waiter's traced_handoff); else recorded at the instant of the switch that
// resumed it if nothing was recorded on the thread since (no clock read).
inline void on_chan_send_resumed(std::uint64_t chan, bool said) noexcept {
  if (tracing() && !said) record_chan_resumed(Rec::chan_send, chan, 0);
}
inline void on_chan_recv_resumed(std::uint64_t chan, bool ok, bool said) noexcept {
  if (tracing() && !said) record_chan_resumed(Rec::chan_recv, chan, ok ? 1 : 0);
}
inline void on_chan_close(std::uint64_t chan) noexcept {
  if (tracing()) record_chan(Rec::chan_close, chan, 0, false);
}
// The caller's select chose case `index` on `chan` (0: the default case).
inline void on_select_done(std::uint64_t chan, int index, bool is_send) noexcept {
  if (tracing()) record_select_done(chan, index, is_send);
}
inline void on_wg_add(std::uint64_t wg, std::int64_t delta, std::int64_t counter) noexcept {
  if (tracing()) record_wg_add(wg, delta, counter);
}
inline void on_cond_signal(std::uint64_t cond, bool broadcast) noexcept {
  if (tracing()) record_cond_signal(cond, broadcast);
}
// The caller enters / leaves a blocking system call (name: static string).
inline void on_syscall_enter(const char* name, int fd, const std::source_location& site) noexcept {
  if (tracing()) record_syscall_enter(name, fd, site);
}
inline void on_syscall_exit(std::int64_t result, int err) noexcept {
  if (tracing()) record_syscall_exit(result, err);
}
inline void on_fd_pair(int fd0, int fd1) noexcept {
  if (tracing()) record_fd_pair(fd0, fd1);
}
inline void on_misuse(std::string_view message, const std::source_location& site) noexcept {
  if (tracing()) record_misuse(message, site);
}
// The online detector reported (kind: "deadlock", "leak", "stall").
inline void on_finding(std::string_view kind, std::string_view pattern,
                       const std::vector<std::uint64_t>& fibers) noexcept {
  if (tracing()) record_finding(kind, pattern, fibers);
}

}  // namespace tether::detail::trace
