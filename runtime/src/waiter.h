// Waiter and WaitQueue: how every blocking object parks its callers.
//
// A blocking operation (channel send/recv, select, mutex lock, cond wait,
// join, call...) works the same way for every object:
//
//   1. lock the object's SpinLock, check whether the operation can proceed;
//   2. if not, put a Waiter (on the caller's stack) on the object's WaitQueue
//      and call block(w, lock, why), which parks the caller and releases the
//      lock only once the caller can safely be woken (for a fiber: after its
//      context has been saved, on the other side of the switch);
//   3. a waker, holding the same lock, takes the Waiter off the queue, calls
//      w.try_claim() (skipping it if that fails: a select case already won or
//      a timeout fired), fills the payload, and calls wake(w).
//
// A Waiter works for fibers and for plain threads (which sleep on a futex),
// so every tether object also works from threads outside the runtime.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <source_location>

#include "spin_lock.h"
#include "tether/wait_reason.h"

namespace tether::detail {

struct Fiber;
class ThreadParker;
using Clock = std::chrono::steady_clock;

// What the caller is about to wait for; becomes the fiber's wait state.
struct WaitSite {
  WaitReason reason;
  std::uint64_t object_id = 0;      // the channel / mutex / ... id, 0 if none
  const char* object_name = nullptr; // must outlive the wait (the object's own name string)
  std::source_location site{};
};

struct Waiter {
  Fiber* fiber = nullptr;           // set by block(): the parked fiber, or nullptr
  ThreadParker* parker = nullptr;   // set by block(): the parked plain thread
  std::atomic<std::uint32_t> own_claim{0};
  std::atomic<std::uint32_t>* claim = &own_claim;  // select: shared by all its cases
  std::atomic<bool> woken{false};
  // A plain thread's waker is done with its parker (set after unpark()): the
  // thread may see `woken` first, and must not return (and perhaps exit,
  // freeing its thread-local parker) while unpark() still runs.
  std::atomic<bool> unparked{false};
  bool timed_out = false;           // set when the deadline, not a waker, claimed w
  // Only wakers holding the object's lock ever claim w (no select, no
  // deadline): try_claim() needs no atomic read-modify-write then.
  bool exclusive = false;
  // Trace: the waker's record already says this channel wait completed (its
  // `woke`), so the woken fiber records no completion of its own.
  bool traced_handoff = false;

  // Intrusive WaitQueue links.
  Waiter* prev = nullptr;
  Waiter* next = nullptr;
  bool queued = false;

  // Payload, for the object's own protocol.
  void* elem = nullptr;     // channel: where to move the value from / to
  bool ok = false;          // channel: value delivered (false: woken by close)
  int case_index = -1;      // select: which case this waiter stands for
  std::uint64_t aux = 0;    // free for the object (rwmutex: reader or writer, ...)

  // Exactly one waker (or the timeout) wins; the others must leave w alone.
  bool try_claim() noexcept {
    if (exclusive) {
      if (own_claim.load(std::memory_order_relaxed) != 0) return false;
      own_claim.store(1, std::memory_order_relaxed);
      return true;
    }
    std::uint32_t expected = 0;
    return claim->compare_exchange_strong(expected, 1, std::memory_order_acq_rel);
  }
};

// FIFO of waiters, intrusive, guarded by the owning object's lock.
class WaitQueue {
 public:
  bool empty() const noexcept { return head_ == nullptr; }
  Waiter* front() const noexcept { return head_; }
  std::size_t size() const noexcept { return size_; }
  void push_back(Waiter* w) noexcept {
    w->next = nullptr;
    w->prev = tail_;
    (tail_ ? tail_->next : head_) = w;
    tail_ = w;
    w->queued = true;
    ++size_;
  }
  Waiter* pop_front() noexcept {
    Waiter* w = head_;
    if (w) remove(w);
    return w;
  }
  void remove(Waiter* w) noexcept {
    if (!w->queued) return;
    (w->prev ? w->prev->next : head_) = w->next;
    (w->next ? w->next->prev : tail_) = w->prev;
    w->prev = w->next = nullptr;
    w->queued = false;
    --size_;
  }
  // Pops waiters until one can be claimed; nullptr if none.
  Waiter* pop_claimed() noexcept {
    while (Waiter* w = pop_front()) {
      if (w->try_claim()) return w;
    }
    return nullptr;
  }
  template <class F>
  void for_each(F&& f) const {
    for (Waiter* w = head_; w; w = w->next) f(*w);
  }

 private:
  Waiter* head_ = nullptr;
  Waiter* tail_ = nullptr;
  std::size_t size_ = 0;
};

// Parks the caller until wake(w). `locks[0..n)` are held on entry and are all
// released once the caller can safely be woken. With a deadline, returns false
// if it passed first (w was claimed by the timeout, not by a waker: the caller
// must take w off its queues itself, under the object's lock). Returns true when
// a waker claimed and woke w.
bool block(Waiter& w, SpinLock* const* locks, std::size_t n, const WaitSite& why,
           const Clock::time_point* deadline = nullptr);

inline void block(Waiter& w, SpinLock& lock, const WaitSite& why) {
  SpinLock* l = &lock;
  block(w, &l, 1, why, nullptr);
}
inline bool block_until(Waiter& w, SpinLock& lock, const WaitSite& why,
                        Clock::time_point deadline) {
  SpinLock* l = &lock;
  return block(w, &l, 1, why, &deadline);
}

// Makes a claimed waiter runnable again. Callable from any thread, with or
// without the object's lock held. w may be gone once wake() returns.
void wake(Waiter& w) noexcept;

}  // namespace tether::detail
