// The runtime's side of libtether_preload.so (internal; docs/preload.md).
//
// libtether_preload.so interposes blocking libc calls but knows nothing of
// fibers. At start (tether::run) the runtime offers it a table of hooks
// (runtime/preload/tether_preload_abi.h) if the library is loaded, whether by
// LD_PRELOAD (`tether run` does that) or by linking it. The hooks record an
// interposed call made by a fiber exactly as tether::sys records its own
// wrappers: wait state "syscall" with the call's name and descriptor, the
// thread marked as in a system call (occupied, for a locked thread), and
// pipe/socketpair ends in the FdTable.
//
// What is not recorded: calls from plain threads and the runtime's own
// threads (no current fiber), and calls made while the fiber's wait state is
// not "running" — inside tether::sys (already recorded) or inside the
// runtime's own blocking code, whose state must not be overwritten.
#pragma once

#include <cstdint>

namespace tether::detail {

// Hands the hooks to libtether_preload.so when it is loaded. Idempotent;
// never fails (without the library it does nothing). Returns whether the
// library took them.
bool register_preload_hooks() noexcept;

// While fiber `fiber` is blocked in an interposed pthread_mutex_lock() on a
// mutex owned (as glibc records it) by the locked thread the fiber itself
// runs on: that thread's node id (Worker::thread_id). Otherwise 0. Only a
// fiber of that thread, never scheduled while the call blocks it, can be
// the holder: the wait graph makes them the call's possible wakers.
std::uint64_t preload_lock_owner_thread(std::uint64_t fiber) noexcept;

}  // namespace tether::detail
