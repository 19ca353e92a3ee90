// Dump reserve: one anonymous mapping, unmapped when a dump needs the room.
#include "fiber_dump_reserve.h"

#include <sys/mman.h>

#include <atomic>

namespace tether::detail {

namespace {
std::atomic<void*> g_reserve{nullptr};
}  // namespace

void reserve_dump_memory() noexcept {
  if (g_reserve.load(std::memory_order_acquire) != nullptr) return;
  // MAP_NORESERVE: no commit charge under heuristic overcommit (the default),
  // where running out means RLIMIT_AS; strict overcommit charges it anyway,
  // which is what makes the release useful there.
  void* p = mmap(nullptr, kDumpReserveBytes, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return;
  void* expected = nullptr;
  if (!g_reserve.compare_exchange_strong(expected, p)) munmap(p, kDumpReserveBytes);
}

bool release_dump_memory() noexcept {
  void* p = g_reserve.exchange(nullptr, std::memory_order_acq_rel);
  if (p == nullptr) return false;
  munmap(p, kDumpReserveBytes);
  return true;
}

}  // namespace tether::detail
