#include "stack_pool.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

#include "fiber_registry.h"
#include "sanitizers.h"

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

namespace tether::detail {

// std::bad_alloc (what go() documents) with a message that says what could
// not be had; formatted into a fixed buffer, since memory is what ran out.
class StackAllocError : public std::bad_alloc {
 public:
  StackAllocError(const char* what_failed, std::size_t size, int err) noexcept {
    std::snprintf(msg_, sizeof msg_,
                  "tether: cannot allocate a fiber stack of %zu KiB: %s failed: %s (%zu fibers "
                  "alive)",
                  size / 1024, what_failed, std::strerror(err), FiberRegistry::instance().alive());
  }
  const char* what() const noexcept override { return msg_; }

 private:
  char msg_[192];
};

namespace {

std::size_t page_size() noexcept {
  static const std::size_t p = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return p;
}

std::size_t round_to_pages(std::size_t n) {
  const std::size_t p = page_size();
  return (n + p - 1) / p * p;
}

// Free stacks by usable size. Slabs are never unmapped: pooled stacks are
// reused, and live ones are referenced by fibers.
struct Pool {
  std::mutex mu;
  std::unordered_map<std::size_t, std::vector<Stack>> free;
  std::size_t free_count = 0;
  bool guard_madvise_works = true;
};

Pool& pool() {
  static Pool* p = new Pool;  // never destroyed: fibers may outlive static destructors
  return *p;
}

constexpr std::size_t kSlabBytes = 4u << 20;  // stacks carved per mmap

void carve_slab(Pool& p, std::size_t size) {
  const std::size_t g = Stack::guard_size();
  const std::size_t stride = size + g;
  std::size_t n = kSlabBytes / stride;
  if (n == 0) n = 1;
  const std::size_t bytes = n * stride;
  void* mem = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (mem == MAP_FAILED) throw StackAllocError("mmap", size, errno);
  auto& list = p.free[size];
  try {
    list.reserve(list.size() + n);  // push_back below cannot throw
  } catch (const std::bad_alloc&) {
    munmap(mem, bytes);
    throw StackAllocError("the free list's allocation", size, ENOMEM);
  }
  for (std::size_t i = 0; i < n; ++i) {
    char* guard = static_cast<char*>(mem) + i * stride;
    bool ok = false;
    if (p.guard_madvise_works) {
      ok = madvise(guard, g, MADV_GUARD_INSTALL) == 0;
      if (!ok) p.guard_madvise_works = false;
    }
    if (!ok && mprotect(guard, g, PROT_NONE) != 0) {
      const int err = errno;
      // The stacks already carved stay usable; the rest of the slab is lost.
      p.free_count += i;
      throw StackAllocError("mprotect (guard page)", size, err);
    }
    list.push_back(Stack{guard + g, size});
  }
  p.free_count += n;
}

}  // namespace

std::size_t Stack::guard_size() noexcept { return page_size(); }

std::size_t default_stack_size() noexcept {
  static const std::size_t s = [] {
    std::size_t kb = 64;
    if (const char* e = std::getenv("TETHER_STACK_KB")) {
      char* end = nullptr;
      unsigned long v = std::strtoul(e, &end, 10);
      if (end != e && *end == '\0' && v >= 16 && v <= (1ul << 20)) kb = v;
    }
    return round_to_pages(kb * 1024);
  }();
  return s;
}

Stack allocate_stack(std::size_t size) {
  // Beyond any address space (and rounding would overflow): as mmap would say.
  if (size > (std::size_t{1} << 40)) throw StackAllocError("mmap", size, ENOMEM);
  size = round_to_pages(size == 0 ? default_stack_size() : size);
  Pool& p = pool();
  Stack s;
  {
    std::lock_guard lk(p.mu);
    auto& list = p.free[size];
    if (list.empty()) carve_slab(p, size);
    s = list.back();
    list.pop_back();
    --p.free_count;
  }
  // A reused stack may carry ASan poison from the frames of its last fiber.
  unpoison_memory(s.base, s.size);
  return s;
}

void release_stack(Stack s) noexcept {
  Pool& p = pool();
  std::lock_guard lk(p.mu);
  try {
    p.free[s.size].push_back(s);
    ++p.free_count;
  } catch (...) {
    // Out of memory for the free list: the stack is simply not reused.
  }
}

std::size_t stack_pool_free_count() noexcept {
  Pool& p = pool();
  std::lock_guard lk(p.mu);
  return p.free_count;
}

}  // namespace tether::detail
