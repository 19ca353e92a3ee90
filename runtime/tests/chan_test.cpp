// Channels: FIFO order, buffering, close and drain, misuse, move-only
// elements, range-for, try_*, plain threads, many fibers, a randomized stress
// test, and the bookkeeping the deadlock detector reads.
#include "tether/chan.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "chan_core.h"
#include "fiber_impl.h"
#include "stack_capture.h"
#include "symbolizer.h"
#include "tether/errors.h"
#include "tether/fiber.h"
#include "tether/runtime.h"
#include "tether/select.h"
#include "tether/thread_locker.h"
#include "tether/timer.h"

namespace tether {
namespace {

using namespace std::chrono_literals;

// Yields until exactly `senders` / `receivers` operations are parked on ch
// (fails the test after 10 s). Lets tests build a known queue order.
template <class T>
void wait_parked(const Chan<T>& ch, std::size_t senders, std::size_t receivers) {
  auto* impl = detail::ChanImpl::from(ch.core());
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  for (;;) {
    const auto w = impl->waiting();
    if (w.senders.size() == senders && w.receivers.size() == receivers) return;
    if (std::chrono::steady_clock::now() > deadline) {
      ADD_FAILURE() << "timed out waiting for " << senders << " senders / " << receivers
                    << " receivers; have " << w.senders.size() << " / " << w.receivers.size();
      return;
    }
    this_fiber::yield();
  }
}

TEST(Chan, UnbufferedHandsOver) {
  run([] {
    Chan<int> ch;
    auto f = go([&] { ch.send(42); });
    EXPECT_EQ(ch.recv(), 42);
    f.join();
    EXPECT_EQ(ch.size(), 0u);
    EXPECT_EQ(ch.capacity(), 0u);
  });
}

TEST(Chan, ReceiversServedFifo) {
  run([] {
    Chan<int> ch;
    constexpr int kN = 6;
    std::vector<int> got(kN, -1);
    std::vector<FiberRef> fs;
    for (int i = 0; i < kN; ++i) {
      fs.push_back(go([&, i] { got[i] = *ch.recv(); }));
      wait_parked(ch, 0, i + 1);  // receiver i is i-th in the queue
    }
    for (int i = 0; i < kN; ++i) ch.send(i * 10);
    for (auto& f : fs) f.join();
    for (int i = 0; i < kN; ++i) EXPECT_EQ(got[i], i * 10) << "receiver " << i;
  });
}

TEST(Chan, SendersServedFifo) {
  for (std::size_t cap : {0u, 2u}) {
    run([cap] {
      Chan<int> ch(cap);
      for (std::size_t i = 0; i < cap; ++i) ch.send(-1);  // fill the buffer
      constexpr int kN = 6;
      std::vector<FiberRef> fs;
      for (int i = 0; i < kN; ++i) {
        fs.push_back(go([&, i] { ch.send(i); }));
        wait_parked(ch, i + 1, 0);
      }
      for (std::size_t i = 0; i < cap; ++i) EXPECT_EQ(ch.recv(), -1);
      for (int i = 0; i < kN; ++i) EXPECT_EQ(ch.recv(), i) << "capacity " << cap;
      for (auto& f : fs) f.join();
    });
  }
}

TEST(Chan, BufferedBlocksOnlyWhenFull) {
  run([] {
    Chan<int> ch(3);
    for (int i = 0; i < 3; ++i) ch.send(i);  // must not block: fiber 1 would hang
    EXPECT_EQ(ch.size(), 3u);
    std::atomic<bool> fourth_done{false};
    auto f = go([&] {
      ch.send(3);
      fourth_done = true;
    });
    wait_parked(ch, 1, 0);
    EXPECT_FALSE(fourth_done);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(ch.recv(), i);
    f.join();
    EXPECT_TRUE(fourth_done);
    EXPECT_EQ(ch.size(), 0u);
  });
}

TEST(Chan, CloseThenDrain) {
  run([] {
    Chan<std::string> ch(4, "drain");
    ch.send("a");
    ch.send("b");
    ch.close();
    EXPECT_TRUE(ch.closed());
    EXPECT_EQ(ch.recv(), "a");
    EXPECT_EQ(ch.try_recv(), "b");
    EXPECT_EQ(ch.recv(), std::nullopt);
    EXPECT_EQ(ch.recv(), std::nullopt);
    EXPECT_EQ(ch.try_recv(), std::nullopt);
  });
}

TEST(Chan, CloseWakesParkedReceivers) {
  run([] {
    Chan<int> ch(2);
    constexpr int kN = 5;
    std::atomic<int> nullopts{0};
    std::vector<FiberRef> fs;
    for (int i = 0; i < kN; ++i)
      fs.push_back(go([&] {
        if (!ch.recv()) ++nullopts;
      }));
    wait_parked(ch, 0, kN);
    ch.close();
    for (auto& f : fs) f.join();
    EXPECT_EQ(nullopts, kN);
  });
}

TEST(Chan, MisuseRaises) {
  run([] {
    Chan<int> ch(1, "jobs");
    ch.close();
    try {
      ch.send(1);
      ADD_FAILURE() << "send on a closed channel did not throw";
    } catch (const misuse_error& e) {
      EXPECT_NE(std::string(e.what()).find("send on closed channel"), std::string::npos)
          << e.what();
      EXPECT_NE(std::string(e.what()).find("jobs"), std::string::npos) << e.what();
      EXPECT_EQ(e.fiber_id(), this_fiber::id());
    }
    EXPECT_THROW(ch.close(), misuse_error);
    EXPECT_THROW(ch.try_send(2), misuse_error);
  });
}

TEST(Chan, ParkedSenderGetsMisuseOnClose) {
  for (std::size_t cap : {0u, 1u}) {
    run([cap] {
      Chan<int> ch(cap);
      if (cap) ch.send(0);
      std::atomic<bool> threw{false};
      auto f = go([&] {
        try {
          ch.send(1);
        } catch (const misuse_error&) {
          threw = true;
        }
      });
      wait_parked(ch, 1, 0);
      ch.close();
      f.join();
      EXPECT_TRUE(threw) << "capacity " << cap;
      if (cap) {
        EXPECT_EQ(ch.recv(), 0);  // what was buffered before close stays
      }
      EXPECT_EQ(ch.recv(), std::nullopt);
    });
  }
}

TEST(Chan, MoveOnlyElements) {
  for (std::size_t cap : {0u, 3u}) {
    run([cap] {
      Chan<std::unique_ptr<int>> ch(cap);
      auto f = go([&] {
        for (int i = 0; i < 10; ++i) ch.send(std::make_unique<int>(i));
        ch.close();
      });
      int expect = 0;
      for (std::unique_ptr<int>& p : ch) {
        ASSERT_TRUE(p);
        EXPECT_EQ(*p, expect++);
      }
      EXPECT_EQ(expect, 10);
      f.join();
    });
  }
}

TEST(Chan, BufferedValuesDestroyedWithChannel) {
  run([] {
    auto counter = std::make_shared<int>(0);
    {
      Chan<std::shared_ptr<int>> ch(4);
      ch.send(counter);
      ch.send(counter);
      EXPECT_EQ(counter.use_count(), 3);
    }
    EXPECT_EQ(counter.use_count(), 1);
  });
}

TEST(Chan, RangeForUntilClosed) {
  run([] {
    Chan<int> ch(5);
    auto f = go([&] {
      for (int i = 1; i <= 100; ++i) ch.send(i);
      ch.close();
    });
    int sum = 0;
    for (int v : ch) sum += v;
    EXPECT_EQ(sum, 5050);
    f.join();
  });
}

TEST(Chan, TrySendTryRecv) {
  run([] {
    Chan<int> ch;
    EXPECT_FALSE(ch.try_send(1));  // nobody receiving, no room
    EXPECT_EQ(ch.try_recv(), std::nullopt);
    int got = 0;
    auto r = go([&] { got = *ch.recv(); });
    wait_parked(ch, 0, 1);
    int v = 7;
    EXPECT_TRUE(ch.try_send(v));
    r.join();
    EXPECT_EQ(got, 7);
    auto s = go([&] { ch.send(8); });
    wait_parked(ch, 1, 0);
    EXPECT_EQ(ch.try_recv(), 8);
    s.join();

    Chan<std::unique_ptr<int>> b(1);
    auto p = std::make_unique<int>(1);
    EXPECT_TRUE(b.try_send(p));
    EXPECT_EQ(p, nullptr);  // moved in
    auto q = std::make_unique<int>(2);
    EXPECT_FALSE(b.try_send(q));
    ASSERT_NE(q, nullptr);  // kept: the buffer was full
    EXPECT_EQ(*q, 2);
  });
}

TEST(Chan, PlainThreadsAndFibers) {
  run([] {
    Chan<int> to_fiber;       // threads -> fiber
    Chan<int> to_threads(2);  // fiber -> threads
    constexpr int kThreads = 4, kPer = 500;
    std::vector<std::thread> ts;
    std::atomic<long> thread_sum{0};
    for (int t = 0; t < kThreads; ++t) {
      ts.emplace_back([&, t] {
        for (int i = 0; i < kPer; ++i) to_fiber.send(t * kPer + i);
        while (auto v = to_threads.recv()) thread_sum += *v;
      });
    }
    std::vector<int> seen(kThreads * kPer, 0);
    for (int i = 0; i < kThreads * kPer; ++i) ++seen[*to_fiber.recv()];
    for (int i = 0; i < kThreads * kPer; ++i) EXPECT_EQ(seen[i], 1) << i;
    long expect = 0;
    for (int i = 1; i <= 1000; ++i) {
      to_threads.send(i);
      expect += i;
    }
    to_threads.close();
    for (auto& t : ts) t.join();
    EXPECT_EQ(thread_sum, expect);
  });
}

TEST(Chan, ThreadToThread) {
  run([] {
    Chan<int> ch;
    std::thread producer([&] {
      for (int i = 0; i < 2000; ++i) ch.send(i);
      ch.close();
    });
    long sum = 0;
    std::thread consumer([&] {
      for (int v : ch) sum += v;
    });
    producer.join();
    consumer.join();
    EXPECT_EQ(sum, 1999L * 2000 / 2);
  });
}

TEST(Chan, TenThousandFibersOnOneChannel) {
  run([] {
#if defined(__SANITIZE_THREAD__)
    constexpr int kN = 3000;  // TSan counts every fiber as a thread (limit 8128, never reused)
#else
    constexpr int kN = 10000;
#endif
    Chan<int> ch;
    std::vector<FiberRef> fs;
    fs.reserve(kN);
    for (int i = 0; i < kN; ++i) fs.push_back(go([&ch, i] { ch.send(i); }));
    std::vector<char> seen(kN, 0);
    for (int i = 0; i < kN; ++i) ++seen[*ch.recv()];
    for (auto& f : fs) f.join();
    for (int i = 0; i < kN; ++i) ASSERT_EQ(seen[i], 1) << i;

    // And the other way round: 10k parked receivers, woken one by one.
    std::atomic<long> sum{0};
    fs.clear();
    for (int i = 0; i < kN; ++i) fs.push_back(go([&] { sum += *ch.recv(); }));
    for (int i = 0; i < kN; ++i) ch.send(i);
    for (auto& f : fs) f.join();
    EXPECT_EQ(sum, long{kN - 1} * kN / 2);
  });
}

// Producers (pool fibers and plain threads) send unique values with random
// operations on three channels; consumers take them with random operations;
// every value must arrive exactly once.
TEST(Chan, RandomizedStress) {
  run([] {
    constexpr int kFiberProducers = 8, kThreadProducers = 2, kConsumers = 6, kPer = 1500;
    constexpr int kProducers = kFiberProducers + kThreadProducers;
    std::vector<Chan<std::uint32_t>> chans{
        Chan<std::uint32_t>(0, "c0"), Chan<std::uint32_t>(1, "c1"), Chan<std::uint32_t>(7, "c7")};
    std::vector<std::atomic<int>> seen(kProducers * kPer);
    auto produce = [&](int p) {
      std::mt19937 rng(p);
      for (int i = 0; i < kPer; ++i) {
        std::uint32_t v = static_cast<std::uint32_t>(p * kPer + i);
        auto& ch = chans[rng() % 3];
        switch (rng() % 3) {
          case 0:
            ch.send(v);
            break;
          case 1:
            while (!ch.try_send(v)) this_fiber::yield();
            break;
          case 2: {
            auto& other = chans[rng() % 3];
            select(send(ch, v, [] {}), send(other, v, [] {}));
            break;
          }
        }
      }
    };
    std::vector<FiberRef> producers;
    for (int p = 0; p < kFiberProducers; ++p) producers.push_back(go([&, p] { produce(p); }));
    std::vector<std::thread> threads;
    for (int p = kFiberProducers; p < kProducers; ++p) threads.emplace_back(produce, p);

    std::vector<FiberRef> consumers;
    for (int c = 0; c < kConsumers; ++c) {
      consumers.push_back(go([&, c] {
        std::mt19937 rng(100 + c);
        std::vector<bool> open(3, true);
        int nopen = 3;
        auto take = [&](std::uint32_t v) { seen.at(v).fetch_add(1); };
        while (nopen > 0) {
          const unsigned op = rng() % 3;
          if (op == 0) {  // blocking select over the open channels (dynamic form)
            std::vector<Case> cases;
            std::vector<int> which;
            for (int i = 0; i < 3; ++i) {
              if (!open[i]) continue;
              which.push_back(i);
              cases.push_back(recv(chans[i], [&, i](std::optional<std::uint32_t> v) {
                if (v) {
                  take(*v);
                } else {
                  open[i] = false;
                  --nopen;
                }
              }));
            }
            select(cases);
          } else if (op == 1) {  // non-blocking select
            bool any = false;
            select(recv(chans[0],
                        [&](std::optional<std::uint32_t> v) {
                          any = true;
                          if (v) take(*v);
                        }),
                   recv(chans[1],
                        [&](std::optional<std::uint32_t> v) {
                          any = true;
                          if (v) take(*v);
                        }),
                   recv(chans[2],
                        [&](std::optional<std::uint32_t> v) {
                          any = true;
                          if (v) take(*v);
                        }),
                   otherwise([] { this_fiber::yield(); }));
            (void)any;
          } else {  // try_recv on one open channel
            const int i = static_cast<int>(rng() % 3);
            if (!open[i]) continue;
            if (auto v = chans[i].try_recv()) {
              take(*v);
            } else if (chans[i].closed() && chans[i].size() == 0) {
              // closed and drained: let a select notice it
              this_fiber::yield();
            } else {
              this_fiber::yield();
            }
          }
        }
      }));
    }
    for (auto& f : producers) f.join();
    for (auto& t : threads) t.join();
    for (auto& ch : chans) ch.close();
    for (auto& f : consumers) f.join();
    int missing = 0, dup = 0;
    for (auto& s : seen) {
      if (s == 0) ++missing;
      if (s > 1) ++dup;
    }
    EXPECT_EQ(missing, 0);
    EXPECT_EQ(dup, 0);
    for (auto& ch : chans) EXPECT_EQ(ch.size(), 0u);
  });
}

TEST(Chan, RemembersWhoUsedWhichSide) {
  run([] {
    Chan<int> ch(0, "watched");
    const std::uint64_t me = this_fiber::id();
    auto f = go([&] { ch.send(1); });
    const std::uint64_t sender = f.id();
    EXPECT_EQ(ch.recv(), 1);
    f.join();
    std::uint64_t plain = 0;
    std::thread t([&] {
      (void)ch.try_send(2);
      plain = detail::plain_thread_id();
    });
    t.join();
    EXPECT_TRUE(detail::is_plain_thread_id(plain));
    auto u = detail::ChanImpl::from(ch.core())->users();
    EXPECT_EQ(u.receivers, std::vector<std::uint64_t>{me});
    EXPECT_EQ(u.senders, (std::vector<std::uint64_t>{sender, plain}));  // the plain thread: its own id
    EXPECT_FALSE(u.senders_overflowed);

    // The set is bounded, and says when it forgot someone.
    for (int i = 0; i < 20; ++i) go([&] { (void)ch.try_recv(); }).join();
    u = detail::ChanImpl::from(ch.core())->users();
    EXPECT_EQ(u.receivers.size(), detail::FiberIdSet::kMax);
    EXPECT_TRUE(u.receivers_overflowed);
  });
}

TEST(Chan, ParkedFiberShowsWaitState) {
  run([] {
    Chan<int> ch(0, "requests");
    auto f = go([&] { (void)ch.recv(); });
    wait_parked(ch, 0, 1);
    const auto w = detail::ChanImpl::from(ch.core())->waiting();
    ASSERT_EQ(w.receivers.size(), 1u);
    ASSERT_NE(w.receivers[0], nullptr);
    EXPECT_EQ(w.receivers[0]->id, f.id());
    // The state is published when the fiber parks; give it a moment.
    detail::WaitStateCell::Value s;
    for (int i = 0; i < 100000; ++i) {
      s = w.receivers[0]->wait.read();
      if (s.reason == WaitReason::chan_receive) break;
      this_fiber::yield();
    }
    EXPECT_EQ(s.reason, WaitReason::chan_receive);
    EXPECT_EQ(s.object_id, ch.id());
    ASSERT_NE(s.object_name, nullptr);
    EXPECT_STREQ(s.object_name, "requests");
    EXPECT_NE(std::string(s.site.file_name()).find("chan_test.cpp"), std::string::npos);
    ch.send(1);
    f.join();
  });
}

}  // namespace
}  // namespace tether

namespace {

// A parked fiber's stack; the function its saved context returns into is
// then the caller of jump_fcontext.
tether::detail::RawStack parked_stack(std::uint64_t fiber) {
  const auto cap = tether::detail::capture_fibers({fiber});
  return cap.fibers.size() == 1 ? cap.fibers[0].stack : tether::detail::RawStack{};
}

// The last (not inlined) function at the stack's first return address.
// Off the fibers' 64 KiB stacks: libdw needs more.
std::string switching_function(const tether::detail::RawStack& stack) {
  if (stack.total == 0) return "(no stack)";
  const auto& frames = tether::detail::Symbolizer::instance().symbolize(stack.inner[0], false);
  return frames.empty() ? "(no frames)" : frames.back().function;
}

// After a fiber switch every return from a frame that was live across it
// mispredicts (the return stack buffer holds the other fiber's calls): the
// park path is inline so that send and recv themselves call jump_fcontext,
// which keeps a same-thread request/reply at one such return per switch.
TEST(Chan, SendAndRecvSwitchWithNoRuntimeFrameBetween) {
#if defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "signal-based stack capture is not testable under TSan (dump_test.cpp)";
#endif
  tether::detail::RawStack receiving, sending;
  tether::run([&] {
    auto t = tether::ThreadLocker::make("switch-frames");
    tether::Chan<int> a(0), b(0);
    auto receiver = t.go([&] { a.recv(); });
    auto sender = t.go([&] { b.send(1); });
    tether::sleep_for(std::chrono::milliseconds(50));
    receiving = parked_stack(receiver.id());
    sending = parked_stack(sender.id());
    a.send(1);
    b.recv();
    receiver.join();
    sender.join();
  });
  EXPECT_EQ(switching_function(receiving),
            "tether::detail::ChanImpl::recv(void*, std::source_location)");
  EXPECT_EQ(switching_function(sending),
            "tether::detail::ChanImpl::send(void*, std::source_location)");
}

}  // namespace
