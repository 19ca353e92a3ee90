// Fibers, the pool, run() and join.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include "stack_pool.h"
#include "tether/fiber.h"
#include "tether/runtime.h"
#include "tether/timer.h"

using namespace std::chrono_literals;

TEST(Run, ReturnsTheValueOfFiberOne) {
  EXPECT_EQ(tether::run([] { return 42; }), 42);
  EXPECT_FALSE(tether::running());
}

TEST(Run, RethrowsWhatFiberOneThrew) {
  EXPECT_THROW(tether::run([]() -> int { throw std::runtime_error("boom"); }),
               std::runtime_error);
  // And the runtime can start again afterwards.
  EXPECT_EQ(tether::run([] { return 7; }), 7);
}

TEST(Run, NestedRunIsRejected) {
  tether::run([] { EXPECT_THROW(tether::run([] {}), std::logic_error); });
}

TEST(Fiber, IdsCountUpAndParentsAreRecorded) {
  tether::run([] {
    const auto me = tether::this_fiber::id();
    EXPECT_GT(me, 0u);
    std::uint64_t child_seen = 0;
    auto f = tether::go([&] { child_seen = tether::this_fiber::id(); });
    f.join();
    EXPECT_EQ(child_seen, f.id());
    EXPECT_GT(f.id(), me);
    EXPECT_TRUE(f.done());
  });
  EXPECT_EQ(tether::this_fiber::id(), 0u);
}

TEST(Fiber, ManyFibersAllRunAndJoin) {
  std::atomic<int> sum{0};
  tether::run([&] {
    std::vector<tether::FiberRef> fs;
    for (int i = 1; i <= 1000; ++i) fs.push_back(tether::go([&sum, i] { sum += i; }));
    for (auto& f : fs) f.join();
  });
  EXPECT_EQ(sum.load(), 1000 * 1001 / 2);
}

TEST(Fiber, YieldLetsOthersRun) {
  setenv("TETHER_PROCS", "1", 1);
  std::vector<int> order;
  tether::run([&] {
    // Both fibers on the one pool thread: yield must interleave them.
    std::atomic<int> started{0};
    auto body = [&](int who) {
      started++;
      while (started.load() < 2) tether::this_fiber::yield();  // both on the thread
      for (int i = 0; i < 3; ++i) {
        order.push_back(who);
        tether::this_fiber::yield();
      }
    };
    auto a = tether::go([&] { body(0); });
    auto b = tether::go([&] { body(1); });
    a.join();
    b.join();
  });
  unsetenv("TETHER_PROCS");
  ASSERT_EQ(order.size(), 6u);
  int switches = 0;
  for (std::size_t i = 1; i < order.size(); ++i) switches += order[i] != order[i - 1];
  EXPECT_GE(switches, 4);
}

// A fiber readied by a pool fiber waits in that thread's runnext slot; if
// the readier then runs without ever switching out, an idle pool thread must
// still get to run it (the monitor marks the slot stealable and wakes one).
TEST(Fiber, RunnextIsNotStarvedByAFiberThatNeverSwitches) {
  setenv("TETHER_PROCS", "2", 1);
  std::atomic<bool> ran{false};
  bool ran_while_spinning = false;
  tether::run([&] {
    tether::go([&] {
      auto b = tether::go([&] { ran.store(true); });  // into this thread's runnext
      const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
      while (!ran.load() && std::chrono::steady_clock::now() < give_up) {
      }
      ran_while_spinning = ran.load();
      b.join();
    }).join();
  });
  unsetenv("TETHER_PROCS");
  EXPECT_TRUE(ran_while_spinning) << "the runnext fiber ran only after its thread's fiber "
                                     "switched out";
}

TEST(Fiber, JoinFromAPlainThread) {
  tether::run([] {
    std::atomic<bool> go_on{false};
    auto f = tether::go([&] {
      while (!go_on.load()) tether::sleep_for(1ms);
    });
    std::thread t([&] {
      go_on = true;
      f.join();
    });
    f.join();
    t.join();
    EXPECT_TRUE(f.done());
  });
}

TEST(Fiber, CustomStackSizeIsUsable) {
  tether::run([] {
    auto f = tether::go(
        [] {
          volatile char big[200 * 1024];
          for (std::size_t i = 0; i < sizeof(big); i += 4096) big[i] = 1;
          (void)big[0];
        },
        tether::FiberOptions{"big", 512 * 1024});
    f.join();
  });
}

TEST(Fiber, HundredThousandParkedFibers) {
  // 100k fibers alive at once, all parked in sleep; then all finish.
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
  constexpr int kFibers = 10000;  // sanitizers multiply time and memory
  constexpr bool kCheckRss = false;
#else
  constexpr int kFibers = 100000;
  constexpr bool kCheckRss = true;
#endif
  std::atomic<int> done{0};
  rusage before{}, after{};
  tether::run([&] {
    getrusage(RUSAGE_SELF, &before);
    std::vector<tether::FiberRef> fs;
    fs.reserve(kFibers);
    const auto wake = std::chrono::steady_clock::now() + 2s;
    for (int i = 0; i < kFibers; ++i) {
      fs.push_back(tether::go([&, wake] {
        tether::sleep_until(wake);
        done.fetch_add(1);
      }));
    }
    getrusage(RUSAGE_SELF, &after);
    for (auto& f : fs) f.join();
  });
  EXPECT_EQ(done.load(), kFibers);
  const long grown_kib = after.ru_maxrss - before.ru_maxrss;
  RecordProperty("rss_kib_per_fiber", std::to_string(double(grown_kib) / kFibers));
  if (kCheckRss) {
    EXPECT_LE(grown_kib, 16L * kFibers) << "more than 16 KiB RSS per parked fiber";
  }
}

TEST(Sleep, SleepsAtLeastTheDurationWithoutBlockingTheThread) {
  setenv("TETHER_PROCS", "1", 1);
  tether::run([] {
    std::atomic<int> ticks{0};
    auto ticker = tether::go([&] {
      for (int i = 0; i < 5; ++i) {
        ticks++;
        tether::this_fiber::yield();
      }
    });
    auto t0 = std::chrono::steady_clock::now();
    auto sleeper = tether::go([] { tether::sleep_for(20ms); });
    sleeper.join();
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 20ms);
    ticker.join();
    EXPECT_EQ(ticks.load(), 5);
  });
  unsetenv("TETHER_PROCS");
}

TEST(StackPool, StacksAreReused) {
  // A finished fiber's stack goes back to the pool just after join() returns
  // (after its last switch): wait for the count to settle each time.
  auto settled_count = [] {
    auto n = tether::detail::stack_pool_free_count();
    for (int i = 0; i < 200; ++i) {
      tether::sleep_for(1ms);
      const auto m = tether::detail::stack_pool_free_count();
      if (m == n) break;
      n = m;
    }
    return n;
  };
  tether::run([&] {
    tether::go([] {}).join();
    const auto free_before = settled_count();
    tether::go([] {}).join();
    EXPECT_EQ(settled_count(), free_before);  // reused, not carved anew
  });
}
