// A test-and-test-and-set spin lock for the runtime's short critical sections
// (a channel's queues, a mutex's waiter list). Never held across a fiber
// switch: block() releases it after the switch, on the other side, on the
// same OS thread; so the thread that locks is always the thread that unlocks.
//
// Thread bias (the locks of sync objects: SpinLock(SpinLock::biasable)). A
// locked read-modify-write costs ~5 ns here, and a request/reply between two
// fibers of one locked thread takes four channel locks per round trip (~20%
// of it) although no other thread ever touches those channels. So a biasable
// lock that one OS thread took kBiasAfter times in a row becomes *biased* to
// that thread, which from then on takes and releases it with plain stores
// (fast_holder_), no locked instruction. Exclusion against other threads is an
// asymmetric Dekker protocol: the owner stores fast_holder_ and then reads
// biased_to_ (and the inspection count), with only a compiler barrier
// between; the other side clears biased_to_ (or counts an inspection), then
// runs membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED), which executes a full
// barrier on every CPU running a thread of this process, and then reads
// fast_holder_. Either the owner sees the change and takes the ordinary
// lock, or the other side sees fast_holder_ set and waits for it to clear.
// The expensive side (a system call, ~1-10 us) is paid:
//   - once per lock by a thread that is not the owner: it *revokes* the bias
//     for good (the lock is shared from then on, an ordinary spin lock);
//   - once per inspection by the detector, a dump or a snapshot
//     (BiasedLockInspection, around ObjectRegistry::for_each), which reads
//     objects without revoking: while an inspection runs, owners take the
//     ordinary lock too.
// Without membarrier (an old kernel, a seccomp filter) or under TSan (which
// cannot see that protocol), nothing is ever biased.
#pragma once

#include <atomic>
#include <cstdint>

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

// The calling OS thread's identity for biased locks: its thread pointer.
// Read afresh on every call (an asm statement the compiler may neither merge
// nor move across the fiber switch: a pool fiber may resume on another
// thread, so a value kept in a register from before the switch would be the
// old thread's; the same reason as current_worker() in scheduler.h).
#if defined(__x86_64__) && defined(__GNUC__)
inline const void* bias_thread_token() noexcept {
  const void* p;
  asm volatile("movq %%fs:0, %0" : "=r"(p));
  return p;
}
#else
const void* bias_thread_token() noexcept;  // spin_lock.cpp: out of line, so re-read
#endif

// Biased locks' shared state (spin_lock.cpp): inspections running now.
extern std::atomic<int> g_biased_lock_inspections;

class SpinLock {
 public:
  enum Bias : std::uint8_t { never, biasable };
  SpinLock() noexcept = default;
  explicit SpinLock(Bias b) noexcept : mode_(b == biasable ? learning : unbiasable) {}
  SpinLock(const SpinLock&) = delete;
  SpinLock& operator=(const SpinLock&) = delete;

  // Consecutive acquisitions by one thread after which a biasable lock is
  // biased to it: a channel made per request and used by two threads twice
  // never gets there (each revocation is a system call).
  static constexpr std::uint16_t kBiasAfter = 256;
  static constexpr std::uint8_t kMaxTakerChanges = 16;

  void lock() noexcept {
    // Only the owner itself ever stores its own token into biased_to_.
    const void* me = bias_thread_token();
    if (biased_to_.load(std::memory_order_relaxed) == me) {
      fast_holder_.store(me, std::memory_order_relaxed);
      // Only the compiler may not move the loads above the store: the other
      // side's membarrier() is the full barrier (see above).
      std::atomic_signal_fence(std::memory_order_seq_cst);
      if (biased_to_.load(std::memory_order_relaxed) == me &&
          g_biased_lock_inspections.load(std::memory_order_acquire) == 0) {
        return;
      }
      fast_holder_.store(nullptr, std::memory_order_release);
    }
    if (!locked_.exchange(true, std::memory_order_acquire)) {
      if (mode_.load(std::memory_order_relaxed) >= learning) after_locked_slow();
      return;
    }
    lock_slow();
  }
  void unlock() noexcept {
    if (fast_holder_.load(std::memory_order_relaxed) == bias_thread_token()) {
      fast_holder_.store(nullptr, std::memory_order_release);
      return;
    }
    locked_.store(false, std::memory_order_release);
  }

  // For tests: whether locks can be biased here, and this lock's state.
  static bool bias_supported() noexcept;
  bool is_biased() const noexcept { return mode_.load(std::memory_order_relaxed) == biased; }
  bool is_shared() const noexcept { return mode_.load(std::memory_order_relaxed) == revoked; }

 private:
  // Ordered: the ones at or above `learning` need after_locked_slow().
  // revoked: shared for good, an ordinary spin lock (also a lock whose takers
  // kept changing, which never was biased).
  enum Mode : std::uint8_t { unbiasable, revoked, learning, biased };
  void lock_slow() noexcept;          // spin for locked_, then after_locked_slow()
  void after_locked_slow() noexcept;  // locked_ is held: learn, revoke or wait for the owner

  std::atomic<bool> locked_{false};
  std::atomic<Mode> mode_{unbiasable};  // changed under locked_
  // learning, under locked_: the last taker, its consecutive acquisitions,
  // and how many times the taker changed (past kMaxTakerChanges it stops).
  std::uint16_t streak_ = 0;
  std::uint8_t taker_changes_ = 0;
  const void* last_taker_ = nullptr;
  std::atomic<const void*> biased_to_{nullptr};   // the owner while biased
  std::atomic<const void*> fast_holder_{nullptr};  // the owner while it holds it through the bias
};

// Lets the calling thread lock biased locks without revoking them, for as
// long as it lives (one membarrier() on entry). For readers that visit many
// objects (the detector, dumps, snapshots), not for the objects' users.
class BiasedLockInspection {
 public:
  BiasedLockInspection() noexcept;
  ~BiasedLockInspection();
  BiasedLockInspection(const BiasedLockInspection&) = delete;
  BiasedLockInspection& operator=(const BiasedLockInspection&) = delete;
};

}  // namespace tether::detail
