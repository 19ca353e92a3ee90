// tether::WaitGroup: wait releases every waiter when the counter reaches zero,
// not before; zero means no wait; negative counter is misuse; reuse; the
// group may be destroyed as soon as wait() returns; fibers on a locked thread.
#include "sync_test_util.h"
#include "tether/wait_group.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "fiber_registry.h"
#include "tether/errors.h"
#include "tether/fiber.h"
#include "tether/runtime.h"
#include "tether/thread_locker.h"
#include "wait_group.h"

namespace {

using tether_test::eventually;
using tether_test::pause;
using tether_test::settle;
using tether_test::Watchdog;
using tether_test::wait_state_of;

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST(WaitGroup, WaitReturnsAfterAllDone) {
  Watchdog dog("WaitReturnsAfterAllDone");
  tether::run([] {
    tether::WaitGroup wg("workers");
    constexpr int kFibers = 30, kThreads = 3;
    std::atomic<int> finished{0};
    wg.add(kFibers + kThreads);
    EXPECT_EQ(wg.count(), kFibers + kThreads);
    for (int i = 0; i < kFibers; ++i) {
      tether::go([&, i] {
        for (int k = 0; k < i % 5; ++k) tether::this_fiber::yield();
        finished.fetch_add(1);
        wg.done();
      });
    }
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&] {
        finished.fetch_add(1);
        wg.done();
      });
    }
    wg.wait();
    EXPECT_EQ(finished.load(), kFibers + kThreads);
    EXPECT_EQ(wg.count(), 0);
    for (auto& t : threads) t.join();
  });
}

TEST(WaitGroup, WaitersStayParkedUntilZeroThenAllGo) {
  Watchdog dog("WaitersStayParkedUntilZeroThenAllGo");
  tether::run([] {
    tether::WaitGroup wg("gate");
    wg.add(2);
    std::atomic<int> released{0};
    std::vector<tether::FiberRef> waiters;
    for (int i = 0; i < 4; ++i) {
      waiters.push_back(tether::go([&] {
        wg.wait();
        released.fetch_add(1);
      }));
    }
    std::thread plain([&] {
      wg.wait();
      released.fetch_add(1);
    });
    ASSERT_TRUE(eventually([&] { return wg.core()->waiter_count() == 5; }));
    auto st = wait_state_of(waiters[0].id());
    ASSERT_TRUE(st.has_value());
    EXPECT_EQ(st->reason, tether::WaitReason::waitgroup_wait);
    EXPECT_EQ(st->object_id, wg.id());
    EXPECT_STREQ(st->object_name, "gate");

    wg.done();
    settle();
    EXPECT_EQ(released.load(), 0);  // 1 left: nobody may go yet
    wg.add(1);                      // 2 again
    wg.add(-2);                     // straight to zero
    for (auto& f : waiters) f.join();
    plain.join();
    EXPECT_EQ(released.load(), 5);
  });
}

TEST(WaitGroup, ZeroCounterDoesNotWait) {
  tether::run([] {
    tether::WaitGroup wg;
    wg.wait();
    wg.add(0);
    wg.wait();
    std::thread([&] { wg.wait(); }).join();
    EXPECT_EQ(wg.count(), 0);
  });
}

TEST(WaitGroup, NegativeCounterIsMisuse) {
  tether::run([] {
    tether::WaitGroup wg("neg");
    try {
      wg.done();
      ADD_FAILURE() << "done() on a zero counter did not throw";
    } catch (const tether::misuse_error& e) {
      EXPECT_NE(std::string(e.what()).find("neg"), std::string::npos) << e.what();
    }
    EXPECT_EQ(wg.count(), 0);
    wg.add(2);
    EXPECT_THROW(wg.add(-3), tether::misuse_error);
    EXPECT_EQ(wg.count(), 2);  // unchanged by the failed add
    std::thread([&] { EXPECT_THROW(wg.add(-5), tether::misuse_error); }).join();
    wg.done();
    wg.done();
    wg.wait();
  });
}

TEST(WaitGroup, ReusableAcrossRounds) {
  Watchdog dog("ReusableAcrossRounds");
  tether::run([] {
    tether::WaitGroup wg;
    for (int round = 0; round < 20; ++round) {
      std::atomic<int> done{0};
      wg.add(5);
      for (int i = 0; i < 5; ++i) {
        tether::go([&] {
          done.fetch_add(1);
          wg.done();
        });
      }
      wg.wait();
      EXPECT_EQ(done.load(), 5) << "round " << round;
    }
  });
}

// Go's idiom: the WaitGroup lives on the waiter's stack and dies as soon as
// wait() returns, while the last done() may still be on its way out. done()
// must not touch the group after waking the waiter (ASan checks this).
TEST(WaitGroup, DestroyedRightAfterWait) {
  Watchdog dog("DestroyedRightAfterWait");
  tether::run([] {
    for (int i = 0; i < 300; ++i) {
      auto wg = std::make_unique<tether::WaitGroup>();
      tether::WaitGroup* p = wg.get();
      p->add(2);
      tether::go([p] { p->done(); });
      std::thread t([p] { p->done(); });
      wg->wait();
      wg.reset();
      t.join();
    }
  });
}

TEST(WaitGroup, FibersOnOneLockedThread) {
  Watchdog dog("WaitGroup.FibersOnOneLockedThread");
  tether::run([] {
    auto gl = tether::ThreadLocker::make("wg-shared");
    tether::WaitGroup wg;
    std::atomic<int> after{0};
    wg.add(3);
    // The waiter stays parked (keeping the locker's thread alive) while the
    // workers are started on the same thread.
    auto waiter = gl.go([&] {
      wg.wait();  // must park: the fibers below run on this same thread
      after = 1;
    });
    std::vector<tether::FiberRef> workers;
    for (int i = 0; i < 3; ++i) {
      workers.push_back(gl.go([&] {
        tether::this_fiber::yield();
        wg.done();
      }));
    }
    for (auto& w : workers) w.join();
    waiter.join();
    EXPECT_EQ(after.load(), 1);
  });
}

}  // namespace
