// ChanImpl: the one implementation of detail::ChanCore (tether/chan.h).
//
// State, all guarded by lock_:
//   - a ring buffer of `capacity` raw element slots (none when unbuffered);
//   - recvq_: receivers waiting for a value (their Waiter::elem is raw storage
//     to construct the value in);
//   - sendq_: senders waiting for a receiver or for room (Waiter::elem points
//     at the value to move from);
//   - closed_, and the sets of fibers seen sending and receiving.
// Invariants: if recvq_ holds a live waiter the buffer is empty; if sendq_
// holds one the buffer is full. (Queues may also hold dead select cases whose
// select already won elsewhere; pop_claimed() skips them.)
//
// A waker pops a waiter with pop_claimed(), moves the element, sets ok and
// calls notify() after releasing the lock (the waiter stays valid until then:
// nobody else can claim or wake it). notify() wakes the waiter itself, or, for
// a select case, the one Waiter its select parked on (see select.cpp).
//
// For the deadlock detector: users() copies out which fibers used the channel
// from which side, and waiting() which fibers are blocked on it right now.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <source_location>
#include <string>
#include <vector>

#include "spin_lock.h"
#include "sync_object.h"
#include "tether/chan.h"
#include "waiter.h"

namespace tether::detail {

// A small set of user ids: fiber ids and plain thread ids (kPlainThreadTag |
// N, sync_object.h). Once more than kMax distinct ids were added it keeps the most recent ones and says it overflowed, so a
// reader never mistakes a partial set for the whole story.
class FiberIdSet {
 public:
  static constexpr std::size_t kMax = 8;

  void add(std::uint64_t id) noexcept {
    if (n_ != 0 && ids_[last_] == id) return;  // the common case: the same fiber again
    for (std::uint8_t i = 0; i < n_; ++i) {
      if (ids_[i] == id) {
        last_ = i;
        return;
      }
    }
    if (n_ < kMax) {
      last_ = n_++;
    } else {
      overflowed_ = true;
      last_ = next_evict_;
      next_evict_ = static_cast<std::uint8_t>((next_evict_ + 1) % kMax);
    }
    ids_[last_] = id;
  }
  std::vector<std::uint64_t> ids() const { return {ids_, ids_ + n_}; }
  bool overflowed() const noexcept { return overflowed_; }

 private:
  std::uint64_t ids_[kMax] = {};
  std::uint8_t n_ = 0;
  std::uint8_t last_ = 0;
  std::uint8_t next_evict_ = 0;
  bool overflowed_ = false;
};

class ChanImpl final : public ChanCore, public SyncObject {
 public:
  ChanImpl(std::size_t capacity, const ElemOps* ops, std::string name, std::source_location site);
  ~ChanImpl() override;

  static ChanImpl* from(ChanCore* c) noexcept { return static_cast<ChanImpl*>(c); }

  // ChanCore.
  void send(void* elem, std::source_location site) override;
  bool recv(void* out, std::source_location site) override;
  TryResult try_send(void* elem, std::source_location site) override;
  TryResult try_recv(void* out, std::source_location site) override;
  void close(std::source_location site) override;
  std::size_t size() const override;
  std::size_t capacity() const override { return cap_; }
  bool closed() const override;
  std::uint64_t id() const override { return object_id(); }
  const std::string& name() const override { return object_name(); }

  // For the detector. Both copy under the lock; safe from any thread.
  struct Users {
    std::vector<std::uint64_t> senders, receivers;  // user ids (FiberIdSet)
    bool senders_overflowed = false, receivers_overflowed = false;
  };
  Users users() const;
  struct Waiting {
    // The parked fibers (nullptr for a plain thread), select cases included.
    std::vector<Fiber*> senders, receivers;
  };
  Waiting waiting() const;
  void describe(ObjectState& out) const override;

  // ---- The protocol, shared with select.cpp. All *_locked: lock() held. ----
  enum class Op { done, would_block, closed };
  SpinLock& lock() const noexcept { return lock_; }
  // Sends *elem if a receiver or room is there. On done, *partner is a waiter
  // to notify() after unlocking (or nullptr). closed: nothing happened.
  Op send_locked(void* elem, Waiter** partner) noexcept;
  // Receives into raw storage *out if a value is there. On done, *partner as
  // above. closed: closed and drained.
  Op recv_locked(void* out, Waiter** partner) noexcept;
  WaitQueue& sendq() noexcept { return sendq_; }
  WaitQueue& recvq() noexcept { return recvq_; }
  void note_sender(std::uint64_t fiber_id) noexcept { senders_seen_.add(fiber_id); }
  void note_receiver(std::uint64_t fiber_id) noexcept { receivers_seen_.add(fiber_id); }
  WaitSite wait_site(WaitReason why, std::source_location site) const noexcept {
    return WaitSite{why, object_id(), object_name().c_str(), site};
  }

  // Wakes a waiter claimed and filled by a waker: the waiter itself, or for a
  // select case the Waiter its select parked on (Waiter::aux, see select.cpp),
  // which learns the winning case from case_index.
  static void notify(Waiter* w) noexcept {
    if (w->aux != 0) {
      Waiter* parked = reinterpret_cast<Waiter*>(static_cast<std::uintptr_t>(w->aux));
      parked->case_index = w->case_index;
      wake(*parked);
    } else {
      wake(*w);
    }
  }

  [[noreturn]] void throw_send_on_closed(std::source_location site) const;

 private:
  void* slot(std::size_t i) const noexcept {
    return static_cast<unsigned char*>(buf_) + i * ops_->size;
  }
  void move_elem(void* dst, void* src) const noexcept;  // ops_->move_construct, small PODs inline
  void push_slot(void* src) noexcept;  // buffer not full
  void pop_slot(void* dst) noexcept;   // buffer not empty

  const ElemOps* const ops_;
  const std::size_t cap_;
  void* buf_ = nullptr;  // cap_ slots
  mutable SpinLock lock_{SpinLock::biasable};
  std::size_t head_ = 0;   // oldest value
  std::size_t count_ = 0;  // values buffered
  bool closed_ = false;
  WaitQueue sendq_;
  WaitQueue recvq_;
  FiberIdSet senders_seen_;
  FiberIdSet receivers_seen_;
};

// ---- The protocol, inline: send()/recv() and select() are the hot paths,
// and out-of-line functions of a -fPIC library cannot be inlined (they could
// be interposed), which costs ~80 instructions per request/reply. ----

inline void ChanImpl::move_elem(void* dst, void* src) const noexcept {
  switch (ops_->trivial_size) {
    case 1: std::memcpy(dst, src, 1); return;
    case 2: std::memcpy(dst, src, 2); return;
    case 4: std::memcpy(dst, src, 4); return;
    case 8: std::memcpy(dst, src, 8); return;
    case 16: std::memcpy(dst, src, 16); return;
    default: ops_->move_construct(dst, src);
  }
}

inline void ChanImpl::push_slot(void* src) noexcept {
  std::size_t tail = head_ + count_;
  if (tail >= cap_) tail -= cap_;
  move_elem(slot(tail), src);
  ++count_;
}

inline void ChanImpl::pop_slot(void* dst) noexcept {
  void* s = slot(head_);
  move_elem(dst, s);
  if (ops_->trivial_size == 0) ops_->destroy(s);
  if (++head_ == cap_) head_ = 0;
  --count_;
}

inline ChanImpl::Op ChanImpl::send_locked(void* elem, Waiter** partner) noexcept {
  *partner = nullptr;
  if (closed_) return Op::closed;
  if (Waiter* r = recvq_.pop_claimed()) {  // the buffer is empty: hand over directly
    move_elem(r->elem, elem);
    r->ok = true;
    *partner = r;
    return Op::done;
  }
  if (count_ < cap_) {
    push_slot(elem);
    return Op::done;
  }
  return Op::would_block;
}

inline ChanImpl::Op ChanImpl::recv_locked(void* out, Waiter** partner) noexcept {
  *partner = nullptr;
  if (count_ != 0) {
    pop_slot(out);
    // A slot came free: the longest-waiting sender's value moves in behind.
    if (Waiter* s = sendq_.pop_claimed()) {
      push_slot(s->elem);
      s->ok = true;
      *partner = s;
    }
    return Op::done;
  }
  if (Waiter* s = sendq_.pop_claimed()) {  // unbuffered: take it from the sender
    move_elem(out, s->elem);
    s->ok = true;
    *partner = s;
    return Op::done;
  }
  return closed_ ? Op::closed : Op::would_block;
}

}  // namespace tether::detail
