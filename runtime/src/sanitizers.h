// Sanitizer annotations for fiber switches.
//
// Debian's Boost.Context is built without BOOST_USE_ASAN/TSAN support for
// fcontext, so the runtime annotates every switch itself: ASan must know
// which stack is current (or exceptions thrown on fiber stacks give false
// reports), and TSan must see each fiber as its own logical thread. All of
// this compiles to nothing in a normal build.
#pragma once

#include <cstddef>

#if defined(__SANITIZE_ADDRESS__)
#define TETHER_ASAN 1
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#include <sanitizer/lsan_interface.h>
#endif
#if defined(__SANITIZE_THREAD__)
#define TETHER_TSAN 1
#include <sanitizer/tsan_interface.h>
#endif

namespace tether::detail {

// Per-context sanitizer state (one for each fiber and each scheduler loop).
struct SanitizerContext {
  void* asan_fake_stack = nullptr;
  const void* stack_bottom = nullptr;  // lowest address of the stack
  std::size_t stack_size = 0;
  void* tsan_fiber = nullptr;
};

inline void unpoison_memory([[maybe_unused]] void* p, [[maybe_unused]] std::size_t n) {
#ifdef TETHER_ASAN
  __asan_unpoison_memory_region(p, n);
#endif
}

// Called right before jumping from `from` to `to`. `from_finishing`: the
// current context will never be resumed (its fake stack can go).
inline void san_before_switch([[maybe_unused]] SanitizerContext& from,
                          [[maybe_unused]] SanitizerContext& to,
                          [[maybe_unused]] bool from_finishing) {
#ifdef TETHER_ASAN
  __sanitizer_start_switch_fiber(from_finishing ? nullptr : &from.asan_fake_stack,
                                 to.stack_bottom, to.stack_size);
#endif
#ifdef TETHER_TSAN
  __tsan_switch_to_fiber(to.tsan_fiber, 0);
#endif
}

// Called right after a switch lands in `self` (and at a fiber's entry).
inline void san_after_switch([[maybe_unused]] SanitizerContext& self) {
#ifdef TETHER_ASAN
  __sanitizer_finish_switch_fiber(self.asan_fake_stack, nullptr, nullptr);
#endif
}

// For a fiber stack, at creation / destruction.
inline void sanitizer_fiber_create([[maybe_unused]] SanitizerContext& c, const void* bottom,
                                   std::size_t size) {
  c.stack_bottom = bottom;
  c.stack_size = size;
#ifdef TETHER_TSAN
  c.tsan_fiber = __tsan_create_fiber(0);
#endif
#ifdef TETHER_ASAN
  // Abandoned fibers' stacks hold the only pointers to some heap blocks; let
  // LeakSanitizer scan them like thread stacks.
  __lsan_register_root_region(bottom, size);
#endif
}
inline void sanitizer_fiber_destroy([[maybe_unused]] SanitizerContext& c) {
#ifdef TETHER_TSAN
  if (c.tsan_fiber) __tsan_destroy_fiber(c.tsan_fiber);
  c.tsan_fiber = nullptr;
#endif
#ifdef TETHER_ASAN
  __lsan_unregister_root_region(c.stack_bottom, c.stack_size);
#endif
}

// For a thread's own (scheduler) context: its native stack's bounds.
void sanitizer_thread_context(SanitizerContext& c);

}  // namespace tether::detail
