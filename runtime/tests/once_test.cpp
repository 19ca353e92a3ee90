// tether::Once: exactly one run among concurrent callers (fibers and plain
// threads), callers return only after it finished, exceptions leave it
// not-done, recursion is misuse, wait states, fibers on one locked thread.
#include "sync_test_util.h"
#include "tether/once.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "fiber_registry.h"
#include "once.h"
#include "tether/errors.h"
#include "tether/fiber.h"
#include "tether/runtime.h"
#include "tether/thread_locker.h"

namespace {

using tether_test::eventually;
using tether_test::pause;
using tether_test::Watchdog;
using tether_test::wait_state_of;

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST(Once, RunsExactlyOnceAmongConcurrentCallers) {
  Watchdog dog("RunsExactlyOnceAmongConcurrentCallers");
  tether::run([] {
    tether::Once once("init");
    std::atomic<int> runs{0};
    std::atomic<bool> initialized{false};
    std::atomic<int> saw_uninitialized{0};
    auto caller = [&] {
      once.call([&] {
        runs.fetch_add(1);
        for (int i = 0; i < 20; ++i) pause();  // let the others pile up
        initialized = true;
      });
      if (!initialized.load()) saw_uninitialized.fetch_add(1);
    };
    std::vector<tether::FiberRef> fibers;
    for (int i = 0; i < 16; ++i) fibers.push_back(tether::go(caller));
    std::vector<std::thread> threads;
    for (int i = 0; i < 3; ++i) threads.emplace_back(caller);
    for (auto& t : threads) t.join();
    for (auto& f : fibers) f.join();
    EXPECT_EQ(runs.load(), 1);
    EXPECT_EQ(saw_uninitialized.load(), 0);  // nobody returned before fn finished
    EXPECT_TRUE(once.done());
    once.call([&] { runs.fetch_add(1); });
    EXPECT_EQ(runs.load(), 1);
  });
}

TEST(Once, ConcurrentCallersParkWithOnceWait) {
  Watchdog dog("ConcurrentCallersParkWithOnceWait");
  tether::run([] {
    tether::Once once("lazy-config");
    std::atomic<bool> release{false};
    auto runner = tether::go([&] {
      once.call([&] {
        while (!release.load()) tether::this_fiber::yield();
      });
    });
    ASSERT_TRUE(eventually([&] { return once.runner() == runner.id(); }));
    int line = 0;
    auto waiter = tether::go([&] {
      line = __LINE__ + 1;
      once.call([] { ADD_FAILURE() << "second function ran"; });
    });
    ASSERT_TRUE(eventually([&] { return once.core()->waiter_count() == 1; }));
    auto st = wait_state_of(waiter.id());
    ASSERT_TRUE(st.has_value());
    EXPECT_EQ(st->reason, tether::WaitReason::once_wait);
    EXPECT_EQ(st->object_id, once.id());
    EXPECT_STREQ(st->object_name, "lazy-config");
    EXPECT_EQ(st->site.line(), static_cast<std::uint_least32_t>(line));
    EXPECT_FALSE(once.done());
    release = true;
    runner.join();
    waiter.join();
    EXPECT_TRUE(once.done());
    EXPECT_EQ(once.runner(), 0u);
  });
}

TEST(Once, ExceptionPropagatesAndLeavesNotDone) {
  tether::run([] {
    tether::Once once;
    int runs = 0;
    EXPECT_THROW(once.call([&] {
      ++runs;
      throw std::runtime_error("boom");
    }),
                 std::runtime_error);
    EXPECT_FALSE(once.done());
    once.call([&] { ++runs; });
    EXPECT_TRUE(once.done());
    once.call([&] { ++runs; });
    EXPECT_EQ(runs, 2);
  });
}

// The runner throws while others are parked: exactly one of them runs its own
// function next, and everybody returns once that succeeded.
TEST(Once, ParkedCallerTakesOverAfterException) {
  Watchdog dog("ParkedCallerTakesOverAfterException");
  tether::run([] {
    tether::Once once;
    std::atomic<int> successes{0}, throws{0};
    std::atomic<bool> release{false};
    auto first = tether::go([&] {
      try {
        once.call([&] {
          while (!release.load()) tether::this_fiber::yield();
          throw std::runtime_error("first attempt fails");
        });
      } catch (const std::runtime_error&) {
        throws.fetch_add(1);
      }
    });
    ASSERT_TRUE(eventually([&] { return once.runner() == first.id(); }));
    std::vector<tether::FiberRef> others;
    for (int i = 0; i < 4; ++i) {
      others.push_back(tether::go([&] { once.call([&] { successes.fetch_add(1); }); }));
    }
    std::thread plain([&] { once.call([&] { successes.fetch_add(1); }); });
    ASSERT_TRUE(eventually([&] { return once.core()->waiter_count() == 5; }));
    release = true;
    first.join();
    for (auto& f : others) f.join();
    plain.join();
    EXPECT_EQ(throws.load(), 1);
    EXPECT_EQ(successes.load(), 1);
    EXPECT_TRUE(once.done());
  });
}

TEST(Once, RecursiveCallIsMisuse) {
  tether::run([] {
    tether::Once once("reentrant");
    bool inner_threw = false;
    once.call([&] {
      try {
        once.call([] {});
      } catch (const tether::misuse_error& e) {
        inner_threw = std::string(e.what()).find("reentrant") != std::string::npos;
      }
    });
    EXPECT_TRUE(inner_threw);
    EXPECT_TRUE(once.done());
    // From a plain thread, too.
    tether::Once other;
    bool thread_threw = false;
    std::thread([&] {
      other.call([&] {
        try {
          other.call([] {});
        } catch (const tether::misuse_error&) {
          thread_threw = true;
        }
      });
    }).join();
    EXPECT_TRUE(thread_threw);
  });
}

// Runner and waiters are fibers on one locked thread; the runner yields inside
// fn, so the waiters must park their fibers, not the thread.
TEST(Once, FibersOnOneLockedThread) {
  Watchdog dog("Once.FibersOnOneLockedThread");
  tether::run([] {
    auto gl = tether::ThreadLocker::make("once-shared");
    tether::Once once;
    std::atomic<int> runs{0}, returned{0};
    std::vector<tether::FiberRef> fibers;
    // A locker's thread ends when its last locked fiber does: hold each fiber
    // at a gate until all are started.
    std::atomic<bool> gate{false};
    for (int i = 0; i < 5; ++i) {
      fibers.push_back(gl.go([&] {
        while (!gate.load()) tether::this_fiber::yield();
        once.call([&] {
          runs.fetch_add(1);
          for (int k = 0; k < 10; ++k) tether::this_fiber::yield();
        });
        returned.fetch_add(1);
      }));
    }
    gate = true;
    for (auto& f : fibers) f.join();
    EXPECT_EQ(runs.load(), 1);
    EXPECT_EQ(returned.load(), 5);
  });
}

}  // namespace
