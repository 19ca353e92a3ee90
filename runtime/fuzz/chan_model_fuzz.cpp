// Model check of channels, select and Mutex under the real runtime.
//
// Each input is decoded into a small program: 1-3 channels (capacity 0-2),
// 2-4 fibers (on the pool or locked to one of two ThreadLockers), each running
// up to 8 operations: send, recv, try_send, try_recv, close, three kinds of
// select (blocking, with otherwise(), with after()), a Mutex-protected
// increment, a yield. Every value sent is unique (it encodes its channel, its
// sender and a sequence number). The program runs under tether::run and is
// checked against Go's semantics:
//   - no lost value, no double delivery: at the end, the values received plus
//     those still buffered are exactly the values whose send completed;
//   - a value arrives on the channel it was sent on, and the values of one
//     sender on one channel reach any one receiver in order;
//   - close: recv gets nullopt only once close() has started; send, try_send
//     and close on a channel whose close() had returned raise misuse_error;
//     a send raises only if close() has started; at most one close succeeds;
//   - the Mutex counter equals the number of critical sections;
//   - no hang: when nothing moves and every unfinished fiber is parked on a
//     channel operation with no deadline, the model must agree that none of
//     those operations can proceed (a real deadlock of the program, which
//     the checker then breaks by closing every channel); if the model says
//     one could proceed and it stays stuck for 2 s, that is a lost wake-up.
// A violation prints what went wrong and aborts (libFuzzer saves the input).
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "fiber_registry.h"
#include "tether/chan.h"
#include "tether/errors.h"
#include "tether/fiber.h"
#include "tether/mutex.h"
#include "tether/runtime.h"
#include "tether/select.h"
#include "tether/thread_locker.h"
#include "tether/timer.h"

namespace {

using namespace std::chrono_literals;

constexpr int kMaxChans = 3;
constexpr int kMaxFibers = 4;
constexpr int kMaxOps = 8;

enum class OpKind : std::uint8_t {
  send,
  recv,
  try_send,
  try_recv,
  close,
  select_recv2,      // select { recv a; recv b }
  select_send_recv,  // select { send a; recv b }
  select_default,    // select { recv a; default }
  select_after,      // select { recv a; after 1ms }
  mutex,
  yield,
  count
};

struct Op {
  OpKind kind;
  int a = 0, b = 0;  // channels
};

struct FiberPlan {
  int placement = 0;  // 0: pool, 1-2: locker 1-2
  std::vector<Op> ops;
};

struct Program {
  std::vector<int> capacity;
  std::vector<FiberPlan> fibers;
};

Program decode(FuzzedDataProvider& in) {
  Program p;
  const int nch = in.ConsumeIntegralInRange(1, kMaxChans);
  for (int i = 0; i < nch; ++i) p.capacity.push_back(in.ConsumeIntegralInRange(0, 2));
  const int nf = in.ConsumeIntegralInRange(2, kMaxFibers);
  for (int i = 0; i < nf; ++i) {
    FiberPlan f;
    f.placement = in.ConsumeIntegralInRange(0, 2);
    const int nops = in.ConsumeIntegralInRange(1, kMaxOps);
    for (int k = 0; k < nops; ++k) {
      Op op;
      op.kind = static_cast<OpKind>(
          in.ConsumeIntegralInRange<int>(0, static_cast<int>(OpKind::count) - 1));
      op.a = in.ConsumeIntegralInRange(0, nch - 1);
      op.b = in.ConsumeIntegralInRange(0, nch - 1);
      f.ops.push_back(op);
    }
    p.fibers.push_back(std::move(f));
  }
  return p;
}

[[noreturn]] void violation(const std::string& what) {
  std::fprintf(stderr, "chan_model_fuzz: model violation: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

// value = channel << 24 | sender << 16 | sequence
int value_chan(int v) {
  return v >> 24;
}
int value_sender(int v) {
  return (v >> 16) & 0xff;
}
int value_seq(int v) {
  return v & 0xffff;
}

// What a fiber is blocked on (or about to block on), for the hang verdict.
struct Pending {
  bool active = false;
  std::vector<int> sends, recvs;  // channels
  bool other = false;             // a mutex: never blocks for long
};

struct Model {
  explicit Model(const Program& p) : plan(p) {
    for (int c : p.capacity) chans.emplace_back(static_cast<std::size_t>(c));
    close_started.assign(p.capacity.size(), false);
    close_done.assign(p.capacity.size(), false);
    closes_ok.assign(p.capacity.size(), 0);
    pending.resize(p.fibers.size());
  }

  const Program& plan;
  std::vector<tether::Chan<int>> chans;
  tether::Mutex mu;
  long counter = 0;  // guarded by mu
  std::atomic<long> critical_sections{0};

  std::mutex m;  // guards everything below (bookkeeping only: never held across a tether call)
  std::vector<bool> close_started, close_done;
  std::vector<int> closes_ok;
  std::set<int> sent_ok;
  std::multiset<int> received;
  std::map<std::tuple<int, int, int>, int> last_seq;  // (receiver, chan, sender) -> seq
  std::vector<Pending> pending;
  std::atomic<long> progress{0};
  std::atomic<int> finished{0};

  bool started_closed(int ch) {
    std::lock_guard lk(m);
    return close_started[ch];
  }
  bool done_closed(int ch) {
    std::lock_guard lk(m);
    return close_done[ch];
  }
  void set_pending(int f, std::vector<int> sends, std::vector<int> recvs, bool other = false) {
    std::lock_guard lk(m);
    pending[f] = Pending{true, std::move(sends), std::move(recvs), other};
  }
  void clear_pending(int f) {
    {
      std::lock_guard lk(m);
      pending[f] = Pending{};
    }
    progress.fetch_add(1);
  }

  void on_sent(int v) {
    std::lock_guard lk(m);
    if (!sent_ok.insert(v).second) violation("value " + std::to_string(v) + " sent twice");
  }
  void on_received(int receiver, int ch, std::optional<int> v) {
    std::lock_guard lk(m);
    if (!v) {
      if (!close_started[ch])
        violation("recv on open channel " + std::to_string(ch) + " returned nullopt");
      return;
    }
    if (value_chan(*v) != ch)
      violation("value " + std::to_string(*v) + " sent on channel " +
                std::to_string(value_chan(*v)) + " arrived on channel " + std::to_string(ch));
    received.insert(*v);
    auto [it, fresh] = last_seq.try_emplace({receiver, ch, value_sender(*v)}, value_seq(*v));
    if (!fresh) {
      if (value_seq(*v) <= it->second)
        violation("fiber " + std::to_string(receiver) + " received value " + std::to_string(*v) +
                  " out of order on channel " + std::to_string(ch));
      it->second = value_seq(*v);
    }
  }
  // A send raised misuse_error (or completed): check against close().
  void on_send_result(int ch, bool raised, bool closed_before, int v) {
    if (raised && !started_closed(ch))
      violation("send of " + std::to_string(v) + " raised on open channel " + std::to_string(ch));
    if (!raised && closed_before)
      violation("send of " + std::to_string(v) + " completed on closed channel " +
                std::to_string(ch));
  }
};

class FiberRunner {
 public:
  FiberRunner(Model& m, int self) : m_(m), self_(self) {}

  void run() {
    for (const Op& op : m_.plan.fibers[self_].ops) {
      step(op);
      m_.clear_pending(self_);
    }
    m_.finished.fetch_add(1);
  }

 private:
  int next_value(int ch) { return ch << 24 | self_ << 16 | ++seq_; }

  void send(int ch) {
    const int v = next_value(ch);
    const bool closed_before = m_.done_closed(ch);
    m_.set_pending(self_, {ch}, {});
    bool raised = false;
    try {
      m_.chans[ch].send(v);
      m_.on_sent(v);
    } catch (const tether::misuse_error&) {
      raised = true;
    }
    m_.on_send_result(ch, raised, closed_before, v);
  }

  void try_send(int ch) {
    const int v = next_value(ch);
    const bool closed_before = m_.done_closed(ch);
    bool raised = false;
    try {
      int copy = v;
      if (m_.chans[ch].try_send(copy)) m_.on_sent(v);
    } catch (const tether::misuse_error&) {
      raised = true;
    }
    m_.on_send_result(ch, raised, closed_before, v);
  }

  void close(int ch) {
    const bool closed_before = m_.done_closed(ch);
    {
      std::lock_guard lk(m_.m);
      m_.close_started[ch] = true;
    }
    bool raised = false;
    try {
      m_.chans[ch].close();
    } catch (const tether::misuse_error&) {
      raised = true;
    }
    std::lock_guard lk(m_.m);
    if (!raised && ++m_.closes_ok[ch] > 1)
      violation("channel " + std::to_string(ch) + " closed twice without an error");
    if (!raised) m_.close_done[ch] = true;
    if (closed_before && !raised)
      violation("close of closed channel " + std::to_string(ch) + " did not raise");
  }

  void step(const Op& op) {
    switch (op.kind) {
      case OpKind::send:
        send(op.a);
        break;
      case OpKind::try_send:
        try_send(op.a);
        break;
      case OpKind::close:
        close(op.a);
        break;
      case OpKind::recv: {
        m_.set_pending(self_, {}, {op.a});
        m_.on_received(self_, op.a, m_.chans[op.a].recv());
        break;
      }
      case OpKind::try_recv: {
        if (auto v = m_.chans[op.a].try_recv()) m_.on_received(self_, op.a, v);
        break;
      }
      case OpKind::select_recv2: {
        m_.set_pending(self_, {}, {op.a, op.b});
        std::optional<int> got;
        const int i =
            tether::select(tether::recv(m_.chans[op.a], [&](std::optional<int> v) { got = v; }),
                           tether::recv(m_.chans[op.b], [&](std::optional<int> v) { got = v; }));
        if (i != 0 && i != 1) violation("select returned case " + std::to_string(i));
        m_.on_received(self_, i == 0 ? op.a : op.b, got);
        break;
      }
      case OpKind::select_send_recv: {
        const int v = next_value(op.a);
        const bool closed_before = m_.done_closed(op.a);
        m_.set_pending(self_, {op.a}, {op.b});
        std::optional<int> got;
        bool sent = false, raised = false;
        int i = -1;
        try {
          i = tether::select(tether::send(m_.chans[op.a], v, [&] { sent = true; }),
                             tether::recv(m_.chans[op.b], [&](std::optional<int> r) { got = r; }));
        } catch (const tether::misuse_error&) {
          raised = true;
        }
        if (raised) {
          m_.on_send_result(op.a, true, closed_before, v);
        } else if (i == 0) {
          if (!sent) violation("select send case chosen but its function did not run");
          m_.on_sent(v);
          m_.on_send_result(op.a, false, closed_before, v);
        } else {
          if (i != 1) violation("select returned case " + std::to_string(i));
          m_.on_received(self_, op.b, got);
        }
        break;
      }
      case OpKind::select_default: {
        std::optional<int> got;
        bool hit = false, dflt = false;
        tether::select(
            tether::recv(m_.chans[op.a], [&](std::optional<int> v) { got = v, hit = true; }),
            tether::otherwise([&] { dflt = true; }));
        if (hit == dflt) violation("select with default ran both or neither case");
        if (hit) m_.on_received(self_, op.a, got);
        break;
      }
      case OpKind::select_after: {
        std::optional<int> got;
        bool hit = false;
        tether::select(
            tether::recv(m_.chans[op.a], [&](std::optional<int> v) { got = v, hit = true; }),
            tether::after(1ms, [] {}));
        if (hit) m_.on_received(self_, op.a, got);
        break;
      }
      case OpKind::mutex: {
        m_.set_pending(self_, {}, {}, true);
        m_.mu.lock();
        const long c = m_.counter;
        tether::this_fiber::yield();  // others contend while we hold it
        m_.counter = c + 1;
        m_.mu.unlock();
        m_.critical_sections.fetch_add(1);
        break;
      }
      case OpKind::yield:
      case OpKind::count:
        tether::this_fiber::yield();
        break;
    }
  }

  Model& m_;
  int self_;
  int seq_ = 0;
};

bool is_untimed_channel_wait(tether::WaitReason r) {
  return r == tether::WaitReason::chan_send || r == tether::WaitReason::chan_receive ||
         r == tether::WaitReason::select;
}

// True when every unfinished fiber is parked, without a deadline, in a
// channel operation (the runtime's own wait states).
bool all_parked_on_channels(const std::set<std::uint64_t>& ids) {
  std::size_t seen = 0;
  bool parked = true;
  tether::detail::FiberRegistry::instance().for_each([&](tether::detail::Fiber& f) {
    if (!ids.count(f.id)) return;
    ++seen;
    const auto w = f.wait.read();
    if (!is_untimed_channel_wait(w.reason) || w.timed) parked = false;
  });
  return parked && seen == ids.size();
}

// The model's verdict on a quiet program: some pending operation can proceed.
std::string could_proceed(Model& m, const std::vector<tether::FiberRef>& refs) {
  std::lock_guard lk(m.m);
  for (std::size_t f = 0; f < m.pending.size(); ++f) {
    const Pending& p = m.pending[f];
    if (!p.active || refs[f].done()) continue;
    if (p.other) return "fiber " + std::to_string(f) + " waits on the mutex";
    auto other_waits = [&](int ch, bool as_sender) {
      for (std::size_t g = 0; g < m.pending.size(); ++g) {
        if (g == f || !m.pending[g].active || refs[g].done()) continue;
        const auto& list = as_sender ? m.pending[g].sends : m.pending[g].recvs;
        if (std::find(list.begin(), list.end(), ch) != list.end()) return true;
      }
      return false;
    };
    for (int ch : p.recvs) {
      auto& c = m.chans[ch];
      if (c.size() > 0 || c.closed() || other_waits(ch, true))
        return "fiber " + std::to_string(f) + " could receive on channel " + std::to_string(ch);
    }
    for (int ch : p.sends) {
      auto& c = m.chans[ch];
      if (c.size() < c.capacity() || c.closed() || other_waits(ch, false))
        return "fiber " + std::to_string(f) + " could send on channel " + std::to_string(ch);
    }
  }
  return {};
}

void check_program(const Program& plan) {
  Model m(plan);
  std::vector<std::optional<tether::ThreadLocker>> lockers(2);  // made when first used
  tether::Chan<int> release(0, "release");
  std::vector<tether::FiberRef> anchors;
  std::vector<tether::FiberRef> refs;
  std::vector<std::unique_ptr<FiberRunner>> runners;
  for (std::size_t f = 0; f < plan.fibers.size(); ++f) {
    runners.push_back(std::make_unique<FiberRunner>(m, static_cast<int>(f)));
    FiberRunner* r = runners.back().get();
    const int where = plan.fibers[f].placement;
    if (where == 0) {
      refs.push_back(tether::go([r] { r->run(); }));
      continue;
    }
    auto& l = lockers[where - 1];
    if (!l) {
      l = tether::ThreadLocker::make(where == 1 ? "fuzz-a" : "fuzz-b");
      // A locker whose locked fibers have all left is finished (go() on it
      // raises): an anchor fiber keeps it alive until the program is done.
      anchors.push_back(l->go([release]() mutable { release.recv(); }));
    }
    refs.push_back(l->go([r] { r->run(); }));
  }
  std::set<std::uint64_t> ids;
  for (auto& r : refs) ids.insert(r.id());

  // Wait for the fibers; decide hangs (see the file comment).
  const auto start = std::chrono::steady_clock::now();
  long last = -1;
  int quiet = 0;
  auto stuck_since = std::chrono::steady_clock::time_point{};
  bool resolved = false;
  while (m.finished.load() < static_cast<int>(plan.fibers.size())) {
    tether::sleep_for(100us);
    const auto now = std::chrono::steady_clock::now();
    if (now - start > 8s) violation("the program did not finish within 8 s");
    const long p = m.progress.load();
    if (p != last) {
      last = p;
      quiet = 0;
      stuck_since = {};
      continue;
    }
    std::set<std::uint64_t> live;
    for (auto& r : refs)
      if (!r.done()) live.insert(r.id());
    if (++quiet < 10 || !all_parked_on_channels(live)) continue;
    const std::string why = could_proceed(m, refs);
    if (why.empty()) {
      if (resolved) violation("still deadlocked after every channel was closed");
      // A real deadlock of the program: break it the way Go would panic,
      // by closing every channel (senders raise, receivers get nullopt).
      resolved = true;
      for (std::size_t ch = 0; ch < m.chans.size(); ++ch) {
        {
          std::lock_guard lk(m.m);
          m.close_started[ch] = true;
        }
        try {
          m.chans[ch].close();
          std::lock_guard lk(m.m);
          m.close_done[ch] = true;
          ++m.closes_ok[ch];
        } catch (const tether::misuse_error&) {
        }
      }
      continue;
    }
    if (stuck_since == std::chrono::steady_clock::time_point{}) stuck_since = now;
    if (now - stuck_since > 2s) violation("hang: nothing moves for 2 s but " + why);
  }
  for (auto& r : refs) r.join();
  release.close();
  for (auto& a : anchors) a.join();

  // Drain: close what is still open, take what is buffered.
  std::multiset<int> all = m.received;
  for (std::size_t ch = 0; ch < m.chans.size(); ++ch) {
    if (!m.chans[ch].closed()) m.chans[ch].close();
    while (auto v = m.chans[ch].recv()) {
      if (value_chan(*v) != static_cast<int>(ch)) violation("buffered value on the wrong channel");
      all.insert(*v);
    }
  }
  for (int v : all) {
    if (all.count(v) > 1) violation("value " + std::to_string(v) + " delivered twice");
    if (!m.sent_ok.count(v)) violation("value " + std::to_string(v) + " delivered but never sent");
  }
  for (int v : m.sent_ok) {
    if (!all.count(v)) violation("value " + std::to_string(v) + " sent but lost");
  }
  for (std::size_t ch = 0; ch < m.chans.size(); ++ch) {
    if (m.closes_ok[ch] > 1) violation("channel closed more than once");
  }
  if (m.counter != m.critical_sections.load())
    violation("mutex counter " + std::to_string(m.counter) + " after " +
              std::to_string(m.critical_sections.load()) + " critical sections");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  setenv("TETHER_PROCS", "2", 1);      // real parallelism on the pool
  setenv("TETHER_DETECT_MS", "0", 1);  // the checker decides deadlocks itself
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  const Program plan = decode(in);
  tether::run([&] { check_program(plan); });
  return 0;
}
