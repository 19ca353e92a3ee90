// A test-and-test-and-set spin lock for the runtime's short critical sections
// (a channel's queues, a mutex's waiter list). Never held across a fiber
// switch: block() releases it after the switch, on the other side.
#pragma once

#include <atomic>

namespace tether::detail {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Memory fences. GCC's TSan does not model std::atomic_thread_fence (and
// warns), so sanitized builds use an equivalent locked read-modify-write
// (a full barrier on x86) that TSan understands.
#if defined(__SANITIZE_THREAD__)
inline std::atomic<int> fence_word{0};
inline void fence(std::memory_order) noexcept { fence_word.fetch_add(0, std::memory_order_seq_cst); }
#else
inline void fence(std::memory_order o) noexcept { std::atomic_thread_fence(o); }
#endif

class SpinLock {
 public:
  void lock() noexcept {
    while (locked_.exchange(true, std::memory_order_acquire)) {
      while (locked_.load(std::memory_order_relaxed)) cpu_relax();
    }
  }
  bool try_lock() noexcept {
    return !locked_.load(std::memory_order_relaxed) &&
           !locked_.exchange(true, std::memory_order_acquire);
  }
  void unlock() noexcept { locked_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> locked_{false};
};

}  // namespace tether::detail
