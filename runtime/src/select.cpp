// select: Go's select over channel cases (tether/select.h).
//
// The protocol (Go's selectgo, on top of waiter.h):
//
//  1. Poll order: a uniformly random permutation of the channel cases. Lock
//     order: the distinct channels sorted by address, so two selects (or a
//     select and a plain send) can never lock in opposite orders. A channel
//     named by several cases is locked once.
//  2. With every lock held, try the cases in poll order; the first that can
//     proceed does so (send_locked / recv_locked, the same code plain send and
//     recv use) and wins. Taking the first ready case of a random order picks
//     uniformly among the ready ones. If none is ready: a default case wins,
//     or an expired timeout does.
//  3. Otherwise park. There is one *parking* Waiter (`park`), not on any
//     queue, and one *case* Waiter per channel case, queued on its channel's
//     send or receive queue. All of them share one claim word (`claim`), so
//     exactly one party — a waker on one of the channels, or the timeout —
//     wins. Each case waiter carries a pointer to `park` in Waiter::aux and
//     its case's index in Waiter::case_index. block() is called on `park`
//     (with all the channel locks, and the deadline of the earliest after()
//     case if there is one); it fills park.fiber / park.parker and releases
//     the locks once parked.
//  4. A waker on channel C pops a case waiter with pop_claimed() (which
//     fails, and skips the waiter, if another case or the timeout won
//     already), moves the element into or out of the case's storage, sets
//     the case waiter's ok, and calls ChanImpl::notify(): since aux != 0 it
//     copies case_index into `park` and wakes `park`. The case waiters and
//     `park` live on the selecting fiber's stack; they stay valid because the
//     fiber cannot return from block() before that wake (or the timeout).
//  5. Back from block(), the fiber relocks every channel and takes its case
//     waiters off the queues (a no-op for the one the waker popped, and for
//     losers a waker already popped and skipped), then unlocks. It must hold
//     each channel's lock for this: wakers on other channels may still be
//     looking at its dead case waiters until it does.
//  6. The winner is park.case_index (or the timeout if block() returned
//     false). A send case woken with ok == false means the channel was
//     closed: misuse_error, as Go panics.
//
// The wait state is "select" with the channel's id and name if every case
// names one channel, otherwise with object id 0; the detector finds all the
// channels a select waits on in their queues (ChanImpl::waiting()).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <utility>

#include "chan_core.h"
#include "sync_object.h"
#include "tether/select.h"
#include "waiter.h"
#include "trace_events.h"

namespace tether::detail {
namespace {

// wyrand, one state per OS thread: cheap, and good enough for poll order.
std::uint64_t seed_random() noexcept {
  thread_local int anchor;
  std::uint64_t z = static_cast<std::uint64_t>(Clock::now().time_since_epoch().count()) ^
                    reinterpret_cast<std::uintptr_t>(&anchor);
  // splitmix64 finalizer, so nearby seeds diverge at once.
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::uint64_t next_random() noexcept {
  thread_local std::uint64_t state = seed_random();
  state += 0xa0761d6478bd642fULL;
  const unsigned __int128 m =
      static_cast<unsigned __int128>(state) * (state ^ 0xe7037ed1a0b428dbULL);
  return static_cast<std::uint64_t>(m >> 64) ^ static_cast<std::uint64_t>(m);
}

// Uniform in [0, n), by multiply-shift (Lemire); the bias is below 2^-56 for small n.
std::size_t uniform(std::size_t n) noexcept {
  return static_cast<std::size_t>((static_cast<unsigned __int128>(next_random()) * n) >> 64);
}

// An array of n elements, on the stack when n is small (the usual select).
template <class T, std::size_t N>
class Scratch {
 public:
  explicit Scratch(std::size_t n)
      : heap_(n > N ? new T[n] : nullptr), p_(n > N ? heap_.get() : inline_) {}
  T& operator[](std::size_t i) noexcept { return p_[i]; }
  T* data() noexcept { return p_; }

 private:
  T inline_[N];
  std::unique_ptr<T[]> heap_;
  T* p_;
};

constexpr std::size_t kInline = 8;

bool is_chan_case(const SelectCaseRef& c) noexcept {
  return c.kind == SelectCaseRef::Kind::recv || c.kind == SelectCaseRef::Kind::send;
}

void lock_all(SpinLock* const* locks, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i) locks[i]->lock();
}
void unlock_all(SpinLock* const* locks, std::size_t n) noexcept {
  for (std::size_t i = n; i-- > 0;) locks[i]->unlock();
}

// Only after() cases: a sleep that shows as "select".
int sleep_select(int timeout_case, Clock::duration timeout, std::source_location site) {
  if (timeout <= Clock::duration::zero()) return timeout_case;
  const Clock::time_point deadline = Clock::now() + timeout;
  Waiter park;
  const WaitSite why{WaitReason::select, 0, nullptr, site};
  // Nobody else knows `park`, so only the deadline can end the wait.
  while (block(park, nullptr, 0, why, &deadline)) {
  }
  return timeout_case;
}

}  // namespace

void select_forever(std::source_location site) {
  Waiter park;  // nobody will ever know it
  const WaitSite why{WaitReason::select_no_cases, 0, nullptr, site};
  for (;;) block(park, nullptr, 0, why, nullptr);
}

namespace {
int select_core_impl(SelectCaseRef* cases, std::size_t n, std::source_location site);
}  // namespace

int select_core(SelectCaseRef* cases, std::size_t n, std::source_location site) {
  const int chosen = select_core_impl(cases, n, site);
  if (trace::tracing()) [[unlikely]] {
    const SelectCaseRef& c = cases[chosen];
    const bool chan_case = c.kind == SelectCaseRef::Kind::recv || c.kind == SelectCaseRef::Kind::send;
    trace::record_select_done(chan_case && c.chan ? c.chan->id() : 0, chosen,
                              c.kind == SelectCaseRef::Kind::send);
  }
  return chosen;
}

namespace {
int select_core_impl(SelectCaseRef* cases, std::size_t n, std::source_location site) {
  int dflt = -1, timeout_case = -1;
  Clock::duration timeout{};
  std::size_t nchan = 0;
  for (std::size_t i = 0; i < n; ++i) {
    switch (cases[i].kind) {
      case SelectCaseRef::Kind::otherwise:
        if (dflt < 0) dflt = static_cast<int>(i);
        break;
      case SelectCaseRef::Kind::after:
        if (timeout_case < 0 || cases[i].timeout < timeout) {
          timeout_case = static_cast<int>(i);
          timeout = cases[i].timeout;
        }
        break;
      case SelectCaseRef::Kind::recv:
      case SelectCaseRef::Kind::send:
        ++nchan;
        break;
    }
  }
  if (nchan == 0) {
    if (dflt >= 0) return dflt;
    if (timeout_case < 0) select_forever(site);
    return sleep_select(timeout_case, timeout, site);
  }

  // 1. Random poll order (inside-out Fisher-Yates) and address lock order.
  Scratch<int, kInline> poll(nchan);
  Scratch<ChanImpl*, kInline> chans(nchan);
  std::size_t k = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!is_chan_case(cases[i])) continue;
    const std::size_t j = uniform(k + 1);
    poll[k] = poll[j];
    poll[j] = static_cast<int>(i);
    chans[k] = ChanImpl::from(cases[i].chan);
    ++k;
  }
  std::sort(chans.data(), chans.data() + nchan, std::less<ChanImpl*>());
  const std::size_t nlocks =
      static_cast<std::size_t>(std::unique(chans.data(), chans.data() + nchan) - chans.data());
  Scratch<SpinLock*, kInline> locks(nlocks);
  for (std::size_t i = 0; i < nlocks; ++i) locks[i] = &chans[i]->lock();

  // 2. Poll.
  // The fiber's id, or a plain thread's own (computed only then), as
  // chan_core's caller() records it.
  const std::uint64_t me = current_user_id();
  lock_all(locks.data(), nlocks);
  for (std::size_t i = 0; i < n; ++i) {
    if (cases[i].kind == SelectCaseRef::Kind::recv)
      ChanImpl::from(cases[i].chan)->note_receiver(me);
    if (cases[i].kind == SelectCaseRef::Kind::send) ChanImpl::from(cases[i].chan)->note_sender(me);
  }
  for (std::size_t p = 0; p < nchan; ++p) {
    SelectCaseRef& c = cases[poll[p]];
    ChanImpl* ch = ChanImpl::from(c.chan);
    Waiter* partner = nullptr;
    if (c.kind == SelectCaseRef::Kind::recv) {
      const ChanImpl::Op op = ch->recv_locked(c.elem, &partner);
      if (op == ChanImpl::Op::would_block) continue;
      c.ok = op == ChanImpl::Op::done;
    } else {
      const ChanImpl::Op op = ch->send_locked(c.elem, &partner);
      if (op == ChanImpl::Op::would_block) continue;
      if (op == ChanImpl::Op::closed) {
        unlock_all(locks.data(), nlocks);
        ch->throw_send_on_closed(site);
      }
    }
    unlock_all(locks.data(), nlocks);
    if (partner) ChanImpl::notify(partner);
    return poll[p];
  }
  if (dflt >= 0) {
    unlock_all(locks.data(), nlocks);
    return dflt;
  }
  Clock::time_point deadline{};
  if (timeout_case >= 0) {
    if (timeout <= Clock::duration::zero()) {
      unlock_all(locks.data(), nlocks);
      return timeout_case;
    }
    deadline = Clock::now() + timeout;
  }

  // 3. Park: one case waiter per channel case, all sharing `claim` and
  // pointing at `park`.
  std::atomic<std::uint32_t> claim{0};
  Waiter park;
  park.claim = &claim;
  Scratch<Waiter, kInline> ws(nchan);
  k = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!is_chan_case(cases[i])) continue;
    Waiter& w = ws[k++];
    w.claim = &claim;
    w.aux = reinterpret_cast<std::uintptr_t>(&park);
    w.case_index = static_cast<int>(i);
    w.elem = cases[i].elem;
    ChanImpl* ch = ChanImpl::from(cases[i].chan);
    (cases[i].kind == SelectCaseRef::Kind::send ? ch->sendq() : ch->recvq()).push_back(&w);
  }
  const WaitSite why = nlocks == 1 ? chans[0]->wait_site(WaitReason::select, site)
                                   : WaitSite{WaitReason::select, 0, nullptr, site};
  const bool woken =
      block(park, locks.data(), nlocks, why, timeout_case >= 0 ? &deadline : nullptr);

  // 5. Take the case waiters off every queue.
  lock_all(locks.data(), nlocks);
  for (std::size_t j = 0; j < nchan; ++j) {
    const SelectCaseRef& c = cases[ws[j].case_index];
    ChanImpl* ch = ChanImpl::from(c.chan);
    (c.kind == SelectCaseRef::Kind::send ? ch->sendq() : ch->recvq()).remove(&ws[j]);
  }
  unlock_all(locks.data(), nlocks);

  // 6. Who won.
  if (!woken) return timeout_case;
  const int won = park.case_index;
  bool ok = false;
  for (std::size_t j = 0; j < nchan; ++j) {
    if (ws[j].case_index == won) ok = ws[j].ok;
  }
  SelectCaseRef& c = cases[won];
  if (c.kind == SelectCaseRef::Kind::send) {
    if (!ok) ChanImpl::from(c.chan)->throw_send_on_closed(site);
  } else {
    c.ok = ok;
  }
  return won;
}
}  // namespace

}  // namespace tether::detail

namespace tether {

int select(std::span<Case> cases, std::source_location site) {
  const std::size_t n = cases.size();
  if (n == 0) detail::select_forever(site);
  detail::Scratch<detail::SelectCaseRef, detail::kInline> refs(n);
  for (std::size_t i = 0; i < n; ++i) refs[i] = cases[i].ref();
  const int chosen = detail::select_core(refs.data(), n, site);
  cases[chosen].run(refs[chosen]);
  return chosen;
}

}  // namespace tether
