// Channels: see chan_core.h for the state and its invariants, waiter.h for
// the parking contract.
//
// Fast paths take the lock once and allocate nothing: a send to a parked
// receiver moves the value straight into the receiver's storage and wakes it
// after unlocking; a send that must wait parks with its value on its own stack
// and the receiver moves it out. So an unbuffered request/reply between two
// fibers of one thread costs two element moves and two fiber switches.
#include "chan_core.h"

#include "fiber_impl.h"
#include "scheduler.h"
#include "trace_events.h"

#include <new>
#include <string>
#include <utility>

namespace tether::detail {

namespace {
// Who calls: the worker and fiber (nullptr on a plain thread), looked up
// once per operation (each current_worker() is an opaque TLS read), and the
// user id the channel remembers: the fiber's, or the plain thread's own
// (plain threads pay an out-of-line call).
struct Caller {
  Worker* worker;
  Fiber* fiber;
  std::uint64_t id;
  // Who the trace's channel records name: the fiber, 0 for a plain thread.
  std::uint64_t trace_id() const noexcept { return fiber ? id : 0; }
};
inline Caller caller() noexcept {
  Worker* w = current_worker();
  Fiber* f = w ? w->current : nullptr;
  if (f) [[likely]]
    return {w, f, f->id};
  return {w, nullptr, plain_thread_id()};
}

// Parks the caller on w until a partner or close() wakes it (block()).
// Inlined, as park_fiber(): no frame of ours may be live across the switch.
__attribute__((always_inline)) inline void park(const Caller& c, Waiter& w, SpinLock& lock,
                                                const WaitSite& why) {
  if (c.fiber) [[likely]] {
    SpinLock* l = &lock;
    park_fiber(c.worker, c.fiber, w, &l, 1, why, nullptr);
  } else {
    block(w, lock, why);
  }
}
}  // namespace

std::shared_ptr<ChanCore> ChanCore::create(std::size_t capacity, const ElemOps* ops,
                                           std::string name, std::source_location site) {
  return std::make_shared<ChanImpl>(capacity, ops, std::move(name), site);
}

ChanImpl::ChanImpl(std::size_t capacity, const ElemOps* ops, std::string name,
                   std::source_location site)
    : SyncObject(ObjectKind::chan, std::move(name), site), ops_(ops), cap_(capacity) {
  if (cap_ != 0) buf_ = ::operator new(cap_ * ops_->size, std::align_val_t(ops_->align));
  trace::on_object_create(object_id(), ObjectKind::chan, object_name(), site, cap_);
  publish();  // last: the detector may describe it from now on
}

ChanImpl::~ChanImpl() {
  unregister();  // before the members go: the detector may be describing it
  // No waiter can be queued: each one keeps a handle (and so the channel) alive.
  for (std::size_t i = 0; i < count_; ++i) ops_->destroy(slot((head_ + i) % cap_));
  if (buf_) ::operator delete(buf_, std::align_val_t(ops_->align));
}

void ChanImpl::throw_send_on_closed(std::source_location site) const {
  throw_misuse("send on closed channel " + std::to_string(object_id()) +
                   (object_name().empty() ? std::string() : " \"" + object_name() + "\""),
               site);
}

void ChanImpl::send(void* elem, std::source_location site) {
  const Caller me = caller();
  lock_.lock();
  senders_seen_.add(me.id);
  Waiter* partner;
  switch (send_locked(elem, &partner)) {
    case Op::done:
      lock_.unlock();
      trace::on_chan_send(object_id(), me.trace_id(), partner);
      if (partner) notify(partner);
      return;
    case Op::closed:
      lock_.unlock();
      throw_send_on_closed(site);
    case Op::would_block:
      break;
  }
  Waiter w;
  w.elem = elem;
  w.exclusive = true;
  sendq_.push_back(&w);
  park(me, w, lock_, wait_site(WaitReason::chan_send, site));
  // A receiver took the value (ok), or close() woke us: Go panics there.
  if (!w.ok) throw_send_on_closed(site);
  trace::on_chan_send_resumed(object_id(), w.traced_handoff);
}

bool ChanImpl::recv(void* out, std::source_location site) {
  const Caller me = caller();
  lock_.lock();
  receivers_seen_.add(me.id);
  Waiter* partner;
  switch (recv_locked(out, &partner)) {
    case Op::done:
      lock_.unlock();
      trace::on_chan_recv(object_id(), me.trace_id(), true, partner);
      if (partner) notify(partner);
      return true;
    case Op::closed:
      lock_.unlock();
      trace::on_chan_recv(object_id(), me.trace_id(), false);
      return false;
    case Op::would_block:
      break;
  }
  Waiter w;
  w.elem = out;
  w.exclusive = true;
  recvq_.push_back(&w);
  park(me, w, lock_, wait_site(WaitReason::chan_receive, site));
  trace::on_chan_recv_resumed(object_id(), w.ok, w.traced_handoff);
  return w.ok;  // false: woken by close()
}

TryResult ChanImpl::try_send(void* elem, std::source_location site) {
  const Caller me = caller();
  lock_.lock();
  senders_seen_.add(me.id);
  Waiter* partner;
  const Op op = send_locked(elem, &partner);
  lock_.unlock();
  if (op == Op::closed) throw_send_on_closed(site);
  if (op == Op::done) trace::on_chan_send(object_id(), me.trace_id(), partner);
  if (partner) notify(partner);
  return op == Op::done ? TryResult::ok : TryResult::would_block;
}

TryResult ChanImpl::try_recv(void* out, std::source_location) {
  const Caller me = caller();
  lock_.lock();
  receivers_seen_.add(me.id);
  Waiter* partner;
  const Op op = recv_locked(out, &partner);
  lock_.unlock();
  if (op != Op::would_block)
    trace::on_chan_recv(object_id(), me.trace_id(), op == Op::done, partner);
  if (partner) notify(partner);
  switch (op) {
    case Op::done:
      return TryResult::ok;
    case Op::closed:
      return TryResult::closed;
    case Op::would_block:
      break;
  }
  return TryResult::would_block;
}

void ChanImpl::close(std::source_location site) {
  lock_.lock();
  if (closed_) {
    lock_.unlock();
    throw_misuse("close of closed channel " + std::to_string(object_id()) +
                     (object_name().empty() ? std::string() : " \"" + object_name() + "\""),
                 site);
  }
  closed_ = true;
  trace::on_chan_close(object_id());
  // Wake everyone under the lock: the popped waiters are nowhere else, and
  // close is rare enough that the longer critical section does not matter.
  // Receivers get ok = false (closed and drained: if a receiver waits, the
  // buffer is empty); senders get ok = false and raise misuse_error.
  while (Waiter* r = recvq_.pop_claimed()) {
    r->ok = false;
    notify(r);
  }
  while (Waiter* s = sendq_.pop_claimed()) {
    s->ok = false;
    notify(s);
  }
  lock_.unlock();
}

std::size_t ChanImpl::size() const {
  lock_.lock();
  const std::size_t n = count_;
  lock_.unlock();
  return n;
}

bool ChanImpl::closed() const {
  lock_.lock();
  const bool c = closed_;
  lock_.unlock();
  return c;
}

ChanImpl::Users ChanImpl::users() const {
  Users u;
  lock_.lock();
  // Copy into fixed arrays first: no allocation while holding a spin lock.
  FiberIdSet s = senders_seen_, r = receivers_seen_;
  lock_.unlock();
  u.senders = s.ids();
  u.receivers = r.ids();
  u.senders_overflowed = s.overflowed();
  u.receivers_overflowed = r.overflowed();
  return u;
}

ChanImpl::Waiting ChanImpl::waiting() const {
  // The queues can be long (10k parked fibers): reserve outside the lock and
  // retry in the rare case they grew meanwhile.
  Waiting out;
  for (;;) {
    lock_.lock();
    const std::size_t ns = sendq_.size(), nr = recvq_.size();
    lock_.unlock();
    out.senders.clear();
    out.receivers.clear();
    out.senders.reserve(ns + 16);
    out.receivers.reserve(nr + 16);
    lock_.lock();
    if (sendq_.size() > out.senders.capacity() || recvq_.size() > out.receivers.capacity()) {
      lock_.unlock();
      continue;
    }
    auto fiber_of = [](const Waiter& w) {
      const Waiter* p =
          w.aux != 0 ? reinterpret_cast<const Waiter*>(static_cast<std::uintptr_t>(w.aux)) : &w;
      return p->fiber;
    };
    // Dead select cases (their select already won) are skipped.
    sendq_.for_each([&](const Waiter& w) {
      if (w.claim->load(std::memory_order_acquire) == 0) out.senders.push_back(fiber_of(w));
    });
    recvq_.for_each([&](const Waiter& w) {
      if (w.claim->load(std::memory_order_acquire) == 0) out.receivers.push_back(fiber_of(w));
    });
    lock_.unlock();
    return out;
  }
}

}  // namespace tether::detail

namespace tether::detail {

void ChanImpl::describe(ObjectState& out) const {
  const Users u = users();
  out.senders = u.senders;
  out.receivers = u.receivers;
  // Too many users to remember: wakeable from outside as far as the detector
  // can tell. (Plain threads are recorded by their own ids, and the detector
  // judges them.)
  out.used_by_plain_thread = u.senders_overflowed || u.receivers_overflowed;
  out.capacity = cap_;
  // Waiting fibers' ids are read under the lock (a fiber may finish as soon
  // as it is off the queue); reserve outside it, retry if the queues grew.
  for (;;) {
    lock_.lock();
    const std::size_t n = sendq_.size() + recvq_.size();
    lock_.unlock();
    out.waiting.clear();
    out.waiting.reserve(n + 16);
    lock_.lock();
    if (sendq_.size() + recvq_.size() > out.waiting.capacity()) {
      lock_.unlock();
      continue;
    }
    auto id_of = [](const Waiter& w) -> std::uint64_t {
      const Waiter* p =
          w.aux != 0 ? reinterpret_cast<const Waiter*>(static_cast<std::uintptr_t>(w.aux)) : &w;
      return p->fiber ? p->fiber->id : 0;
    };
    // Skip dead select cases (their select already won elsewhere or timed
    // out): that fiber is not waiting here any more.
    auto live = [](const Waiter& w) { return w.claim->load(std::memory_order_acquire) == 0; };
    sendq_.for_each([&](const Waiter& w) {
      if (live(w)) out.waiting.emplace_back(id_of(w), true);
    });
    recvq_.for_each([&](const Waiter& w) {
      if (live(w)) out.waiting.emplace_back(id_of(w), false);
    });
    out.size = count_;
    out.closed = closed_;
    lock_.unlock();
    break;
  }
  for (auto& [id, send] : out.waiting) {
    (void)send;
    if (id == 0) out.used_by_plain_thread = true;  // a plain thread is blocked on it
  }
}

}  // namespace tether::detail
