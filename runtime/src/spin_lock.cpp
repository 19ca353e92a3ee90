// The slow paths of biased spin locks (spin_lock.h has the protocol).
#include "spin_lock.h"

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace tether::detail {

std::atomic<int> g_biased_lock_inspections{0};

#if !(defined(__x86_64__) && defined(__GNUC__))
const void* bias_thread_token() noexcept {
  static thread_local char token;
  return &token;
}
#endif

namespace {

thread_local int tls_inspecting = 0;

// Set (seq_cst) before the first lock is biased: from then on an inspection
// needs its membarrier().
std::atomic<bool> g_bias_in_use{false};

long membarrier(int cmd) { return syscall(SYS_membarrier, cmd, 0, 0); }

// Whether locks may be biased: membarrier's private expedited command works
// here, TSan is off, and TETHER_LOCK_BIAS is not 0.
bool bias_available() noexcept {
#if defined(__SANITIZE_THREAD__)
  return false;
#else
  static const bool ok = [] {
    if (const char* e = std::getenv("TETHER_LOCK_BIAS"); e && std::strcmp(e, "0") == 0) {
      return false;
    }
    const long cmds = membarrier(MEMBARRIER_CMD_QUERY);
    if (cmds < 0 || (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0) return false;
    return membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0;
  }();
  return ok;
#endif
}

// A full barrier on every CPU that runs a thread of this process.
void process_wide_barrier() noexcept {
  if (membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0) {
    // Registered at the first bias, so this cannot fail; if it did, the
    // owners' plain stores would no longer exclude anyone.
    std::fprintf(stderr, "tether: membarrier failed: %s\n", std::strerror(errno));
    std::abort();
  }
}

}  // namespace

bool SpinLock::bias_supported() noexcept { return bias_available(); }

void SpinLock::lock_slow() noexcept {
  do {
    while (locked_.load(std::memory_order_relaxed)) cpu_relax();
  } while (locked_.exchange(true, std::memory_order_acquire));
  if (mode_.load(std::memory_order_relaxed) >= learning) after_locked_slow();
}

void SpinLock::after_locked_slow() noexcept {
  const void* me = bias_thread_token();
  const Mode mode = mode_.load(std::memory_order_relaxed);
  if (mode == learning) {
    if (tls_inspecting != 0) return;  // a reader, not a user: neither a taker nor an owner
    if (last_taker_ != me) {
      last_taker_ = me;
      streak_ = 1;
      if (++taker_changes_ > kMaxTakerChanges) mode_.store(revoked, std::memory_order_relaxed);
    } else if (++streak_ >= kBiasAfter) {
      if (bias_available()) {
        g_bias_in_use.store(true, std::memory_order_seq_cst);
        mode_.store(biased, std::memory_order_relaxed);
        biased_to_.store(me, std::memory_order_relaxed);  // from our next lock() on
      } else {
        mode_.store(revoked, std::memory_order_relaxed);
      }
    }
    return;
  }
  if (mode != biased || biased_to_.load(std::memory_order_relaxed) == me) return;
  // Another thread's lock. An inspection only waits the owner out; anyone
  // else takes the lock away from it for good.
  if (tls_inspecting == 0) {
    mode_.store(revoked, std::memory_order_relaxed);
    biased_to_.store(nullptr, std::memory_order_relaxed);
    process_wide_barrier();
  }
  while (fast_holder_.load(std::memory_order_acquire) != nullptr) cpu_relax();
}

BiasedLockInspection::BiasedLockInspection() noexcept {
  g_biased_lock_inspections.fetch_add(1, std::memory_order_seq_cst);
  if (g_bias_in_use.load(std::memory_order_seq_cst)) process_wide_barrier();
  ++tls_inspecting;
}

BiasedLockInspection::~BiasedLockInspection() {
  --tls_inspecting;
  g_biased_lock_inspections.fetch_sub(1, std::memory_order_release);
}

}  // namespace tether::detail
