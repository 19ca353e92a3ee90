// Fiber stacks: mmap'd, with a guard page below each, carved from slabs and
// pooled for reuse.
//
// Guard pages are installed with madvise(MADV_GUARD_INSTALL) where the kernel
// has it (Linux >= 6.13): it does not split the mapping, so 100k fibers cost
// a few thousand VMAs instead of 200k (the default vm.max_map_count is 65530).
// Older kernels fall back to mprotect(PROT_NONE), one extra VMA per stack.
#pragma once

#include <cstddef>

namespace tether::detail {

struct Stack {
  void* base = nullptr;     // lowest usable address (just above the guard page)
  std::size_t size = 0;     // usable bytes
  void* top() const noexcept { return static_cast<char*>(base) + size; }
  bool contains(const void* p) const noexcept {
    auto* c = static_cast<const char*>(p);
    return c >= static_cast<const char*>(base) - guard_size() && c < static_cast<const char*>(top());
  }
  static std::size_t guard_size() noexcept;
};

// Default usable stack size: TETHER_STACK_KB (KiB) or 64 KiB.
std::size_t default_stack_size() noexcept;

// Thread-safe. Sizes are rounded up to whole pages.
Stack allocate_stack(std::size_t size);
void release_stack(Stack s) noexcept;

// Stacks waiting in the pool for reuse (for tests).
std::size_t stack_pool_free_count() noexcept;

}  // namespace tether::detail
