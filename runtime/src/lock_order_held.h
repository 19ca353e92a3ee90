// HeldLocks and PairCache: the lock-order tracker's per-logical-thread and
// per-OS-thread state, kept off the process-wide mutex (internal; used only
// by lock_order.cpp).
//
// HeldLocks is one logical thread's (a fiber's or a plain thread's) held
// locks, in acquisition order. Only its owner adds entries and reads their
// sites; an entry's lock id is atomic because another thread may clear it:
// Go lets any fiber unlock a mutex, and that fiber then finds the holder by
// scanning every HeldLocks (release_anywhere() in lock_order.cpp) and clears
// the entry with a CAS. The owner drops cleared entries from the top when it
// next adds or removes one. A call() fiber also reads its waiting caller's
// entries (the caller cannot change them while it waits).
//
// Storage: kInline entries in the object, then chunks of kChunk, allocated
// when nesting first gets that deep and kept until the HeldLocks is freed, so
// a concurrent reader never sees memory go away under it.
//
// PairCache is a direct-mapped cache of (from, to) pairs, one per OS thread:
// a pair found there is known to the graph (an edge, or a refused edge that
// closed a cycle). Ids are never reused and only a destroyed lock's edges
// leave the graph, so a cached pair is never wrong, only possibly stale for
// a lock that can no longer be acquired.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <source_location>

namespace tether::detail {

struct HeldEntry {
  std::atomic<std::uint64_t> lock{0};  // 0: free, or released by another thread
  std::source_location site;           // where the owner took it (owner-written)
  // Owner-only memo, kept when the slot is reused: the last (held, acquired)
  // pair found known to the graph from this slot, and the last lock whose
  // kind and name were found recorded. Nested locks taken in the same order
  // over and over hit here, on a cache line the owner has just written.
  std::uint64_t known_from = 0, known_to = 0;
  std::uint64_t recorded = 0;
};

struct HeldChunk {
  static constexpr std::size_t kChunk = 32;
  HeldEntry e[kChunk];
  std::atomic<HeldChunk*> next{nullptr};
};

struct HeldLocks {
  static constexpr std::size_t kInline = 6;

  explicit HeldLocks(const HeldLocks* c) noexcept : caller(c) {}
  HeldLocks(const HeldLocks&) = delete;
  HeldLocks& operator=(const HeldLocks&) = delete;
  ~HeldLocks() {
    HeldChunk* c = more.load(std::memory_order_relaxed);
    while (c) {
      HeldChunk* next = c->next.load(std::memory_order_relaxed);
      delete c;
      c = next;
    }
  }

  // Entries [0, size()) may be read by anyone; acquire pairs with push().
  std::size_t size() const noexcept { return n.load(std::memory_order_acquire); }
  const HeldEntry& at(std::size_t i) const noexcept {
    return const_cast<HeldLocks*>(this)->slot(i);
  }

  // Owner only: entry i < size(), to read and update its memo.
  HeldEntry& mine(std::size_t i) noexcept { return slot(i); }

  // Owner only. Returns the new entry. May throw std::bad_alloc (a new chunk).
  HeldEntry& push(std::uint64_t id, std::source_location site) {
    trim();
    const std::uint32_t i = n.load(std::memory_order_relaxed);
    HeldEntry& e = i < kInline ? inline_[i] : grow(i);
    e.site = site;
    e.lock.store(id, std::memory_order_relaxed);
    n.store(i + 1, std::memory_order_release);
    return e;
  }
  // Owner only: clears the newest entry for id. False if there is none. A
  // plain store, no CAS: the only other writer, clear(), writes 0 too.
  bool pop(std::uint64_t id) noexcept {
    for (std::size_t i = n.load(std::memory_order_relaxed); i-- > 0;) {
      HeldEntry& e = slot(i);
      if (e.lock.load(std::memory_order_relaxed) == id) {
        e.lock.store(0, std::memory_order_relaxed);
        trim();
        return true;
      }
    }
    return false;
  }
  // Anyone: clears one entry for id (a lock released by another logical thread).
  bool clear(std::uint64_t id) noexcept {
    for (std::size_t i = size(); i-- > 0;) {
      std::uint64_t v = id;
      if (slot(i).lock.compare_exchange_strong(v, 0, std::memory_order_relaxed)) return true;
    }
    return false;
  }

  const HeldLocks* const caller;   // a call() fiber's waiting caller; nullptr otherwise
  HeldLocks* list_prev = nullptr;  // plain threads' list (lock_order.cpp, its mutex)
  HeldLocks* list_next = nullptr;

 private:
  HeldEntry& slot(std::size_t i) noexcept {
    if (i < kInline) return inline_[i];
    i -= kInline;
    HeldChunk* c = more.load(std::memory_order_acquire);
    for (; i >= HeldChunk::kChunk; i -= HeldChunk::kChunk) {
      c = c->next.load(std::memory_order_acquire);
    }
    return c->e[i];
  }
  // Owner only: the slot for index i >= kInline, allocating its chunk.
  HeldEntry& grow(std::size_t i) {
    std::atomic<HeldChunk*>* link = &more;
    i -= kInline;
    for (;;) {
      HeldChunk* c = link->load(std::memory_order_relaxed);
      if (!c) {
        c = new HeldChunk;
        link->store(c, std::memory_order_release);
      }
      if (i < HeldChunk::kChunk) return c->e[i];
      i -= HeldChunk::kChunk;
      link = &c->next;
    }
  }
  // Owner only: drops cleared entries from the top.
  void trim() noexcept {
    std::size_t m = n.load(std::memory_order_relaxed);
    const std::size_t before = m;
    while (m > 0 && slot(m - 1).lock.load(std::memory_order_relaxed) == 0) --m;
    if (m != before) n.store(static_cast<std::uint32_t>(m), std::memory_order_release);
  }

  std::atomic<std::uint32_t> n{0};
  HeldEntry inline_[kInline];
  std::atomic<HeldChunk*> more{nullptr};
};

// One OS thread's caches (not shared; no atomics).
template <std::size_t kPairs, std::size_t kIds>
struct PairCache {
  static_assert((kPairs & (kPairs - 1)) == 0 && (kIds & (kIds - 1)) == 0);
  // (from, to) pairs the graph knows.
  bool has_pair(std::uint64_t from, std::uint64_t to) const noexcept {
    const std::size_t i = pair_slot(from, to);
    return from_[i] == from && to_[i] == to;
  }
  void add_pair(std::uint64_t from, std::uint64_t to) noexcept {
    const std::size_t i = pair_slot(from, to);
    from_[i] = from;
    to_[i] = to;
  }
  // Locks whose kind and name the tracker has recorded.
  bool has_id(std::uint64_t id) const noexcept { return ids_[id & (kIds - 1)] == id; }
  void add_id(std::uint64_t id) noexcept { ids_[id & (kIds - 1)] = id; }

 private:
  static std::size_t pair_slot(std::uint64_t from, std::uint64_t to) noexcept {
    const std::uint64_t h = (from * 0x9E3779B97F4A7C15ull) ^ (to * 0xC2B2AE3D27D4EB4Full);
    return static_cast<std::size_t>(h >> 40) & (kPairs - 1);
  }
  std::uint64_t from_[kPairs] = {};
  std::uint64_t to_[kPairs] = {};
  std::uint64_t ids_[kIds] = {};
};

}  // namespace tether::detail
