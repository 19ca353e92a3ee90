// tether::CondVar: signal wakes exactly one (the oldest), broadcast all,
// timeouts (and that a timed-out waiter consumes no signal), the mutex is
// held again on return, wait states, misuse, plain threads and fibers on one
// locked thread.
#include "sync_test_util.h"
#include "tether/cond_var.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "cond_var.h"
#include "fiber_registry.h"
#include "tether/errors.h"
#include "tether/fiber.h"
#include "tether/mutex.h"
#include "tether/runtime.h"
#include "tether/thread_locker.h"

namespace {

using tether_test::eventually;
using tether_test::pause;
using tether_test::settle;
using tether_test::Watchdog;
using tether_test::wait_state_of;

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST(CondVar, SignalWakesOldestOneBroadcastWakesAll) {
  Watchdog dog("SignalWakesOldestOneBroadcastWakesAll");
  tether::run([] {
    tether::Mutex mu;
    tether::CondVar cv("cv");
    constexpr int kWaiters = 4;
    std::vector<int> woke;  // guarded by mu
    std::vector<tether::FiberRef> fibers;
    for (int i = 0; i < kWaiters; ++i) {
      fibers.push_back(tether::go([&, i] {
        std::unique_lock lk(mu);
        cv.wait(lk);
        EXPECT_TRUE(mu.locked());
        EXPECT_EQ(mu.holder(), tether::this_fiber::id());
        woke.push_back(i);
      }));
      ASSERT_TRUE(eventually([&] { return cv.waiter_count() == std::size_t(i) + 1; }));
    }
    auto woken = [&] {
      std::lock_guard g(mu);
      return woke.size();
    };
    cv.signal();
    ASSERT_TRUE(eventually([&] { return woken() == 1; }));
    settle();
    EXPECT_EQ(woken(), 1u);  // exactly one
    cv.notify_one();
    ASSERT_TRUE(eventually([&] { return woken() == 2; }));
    {
      std::lock_guard g(mu);
      EXPECT_EQ(woke, (std::vector<int>{0, 1}));  // FIFO
    }
    EXPECT_EQ(cv.waiter_count(), std::size_t(kWaiters - 2));
    cv.broadcast();
    for (auto& f : fibers) f.join();
    EXPECT_EQ(woken(), std::size_t(kWaiters));
    EXPECT_EQ(cv.waiter_count(), 0u);
    cv.signal();  // nobody waits: a no-op
  });
}

TEST(CondVar, WaitForTimesOutWithMutexHeld) {
  Watchdog dog("WaitForTimesOutWithMutexHeld");
  tether::run([] {
    tether::Mutex mu;
    tether::CondVar cv;
    std::unique_lock lk(mu);
    const auto t0 = Clock::now();
    EXPECT_FALSE(cv.wait_for(lk, 30ms));
    EXPECT_GE(Clock::now() - t0, 30ms);
    EXPECT_TRUE(lk.owns_lock());
    EXPECT_TRUE(mu.locked());
    EXPECT_EQ(mu.holder(), tether::this_fiber::id());
    EXPECT_EQ(cv.waiter_count(), 0u);  // the timed-out waiter left the queue
    // Already expired deadlines return at once.
    EXPECT_FALSE(cv.wait_until(lk, Clock::now() - 1s));
    EXPECT_FALSE(cv.wait_for(mu, 0ms));
    EXPECT_FALSE(cv.wait_until(lk, std::chrono::system_clock::now() + 5ms));
    EXPECT_TRUE(mu.locked());
    // A plain thread can time out too.
    lk.unlock();
    std::thread([&] {
      std::unique_lock tl(mu);
      EXPECT_FALSE(cv.wait_for(tl, 10ms));
      EXPECT_TRUE(mu.locked());
    }).join();
    EXPECT_FALSE(mu.locked());
  });
}

TEST(CondVar, WaitForReturnsTrueWhenSignalled) {
  Watchdog dog("WaitForReturnsTrueWhenSignalled");
  tether::run([] {
    tether::Mutex mu;
    tether::CondVar cv;
    bool ready = false;
    std::atomic<bool> result{false};
    auto f = tether::go([&] {
      std::unique_lock lk(mu);
      result = cv.wait_for(lk, 30s, [&] { return ready; });
    });
    ASSERT_TRUE(eventually([&] { return cv.waiter_count() == 1; }));
    const auto t0 = Clock::now();
    {
      std::lock_guard g(mu);
      ready = true;
    }
    cv.signal();
    f.join();
    EXPECT_TRUE(result.load());
    EXPECT_LT(Clock::now() - t0, 10s);
  });
}

// A timed-out waiter must not swallow a later signal meant for the others.
TEST(CondVar, TimedOutWaiterConsumesNoSignal) {
  Watchdog dog("TimedOutWaiterConsumesNoSignal");
  tether::run([] {
    tether::Mutex mu;
    tether::CondVar cv;
    std::atomic<bool> timed_out{false}, b_woke{false};
    // Long enough for this fiber to see both waiters first, on a loaded
    // machine under ASan too (20 ms was not, once in ten runs).
    auto a = tether::go([&] {
      std::unique_lock lk(mu);
      timed_out = !cv.wait_for(lk, 500ms);
    });
    ASSERT_TRUE(eventually([&] { return cv.waiter_count() == 1; }));
    auto b = tether::go([&] {
      std::unique_lock lk(mu);
      cv.wait(lk);
      b_woke = true;
    });
    ASSERT_TRUE(eventually([&] { return cv.waiter_count() == 2; }));
    a.join();
    EXPECT_TRUE(timed_out.load());
    EXPECT_EQ(cv.waiter_count(), 1u);
    cv.signal();
    b.join();
    EXPECT_TRUE(b_woke.load());
  });
}

TEST(CondVar, RecordsWaitStateAndRelocksAsMutexLock) {
  Watchdog dog("RecordsWaitStateAndRelocksAsMutexLock");
  tether::run([] {
    tether::Mutex mu("m");
    tether::CondVar cv("work-ready");
    int line = 0;
    auto f = tether::go([&] {
      mu.lock();
      line = __LINE__ + 1;
      cv.wait(mu);
      mu.unlock();
    });
    ASSERT_TRUE(eventually([&] { return cv.waiter_count() == 1; }));
    auto st = wait_state_of(f.id());
    ASSERT_TRUE(st.has_value());
    EXPECT_EQ(st->reason, tether::WaitReason::cond_wait);
    EXPECT_EQ(st->object_id, cv.id());
    EXPECT_STREQ(st->object_name, "work-ready");
    EXPECT_EQ(st->site.line(), static_cast<std::uint_least32_t>(line));
    // Signal while holding the mutex: the woken fiber then waits for the mutex.
    mu.lock();
    cv.signal();
    ASSERT_TRUE(eventually([&] { return mu.core()->waiter_count() == 1; }));
    st = wait_state_of(f.id());
    ASSERT_TRUE(st.has_value());
    EXPECT_EQ(st->reason, tether::WaitReason::mutex_lock);
    EXPECT_EQ(st->object_id, mu.id());
    mu.unlock();
    f.join();
  });
}

TEST(CondVar, MisuseIsReported) {
  tether::run([] {
    tether::Mutex mu("unheld");
    tether::CondVar cv;
    try {
      cv.wait(mu);
      ADD_FAILURE() << "wait with an unlocked mutex did not throw";
    } catch (const tether::misuse_error& e) {
      EXPECT_NE(std::string(e.what()).find("unheld"), std::string::npos) << e.what();
    }
    EXPECT_EQ(cv.waiter_count(), 0u);  // nothing left queued
    EXPECT_THROW(cv.wait_for(mu, 10ms), tether::misuse_error);
    EXPECT_THROW(cv.wait_for(mu, 0ms), tether::misuse_error);
    std::unique_lock lk(mu, std::defer_lock);
    EXPECT_THROW(cv.wait(lk), tether::misuse_error);
    EXPECT_FALSE(mu.locked());
  });
}

// Producer/consumer between a plain thread and fibers, bounded queue.
TEST(CondVar, ProducerConsumerAcrossThreadsAndFibers) {
  Watchdog dog("ProducerConsumerAcrossThreadsAndFibers");
  tether::run([] {
    tether::Mutex mu;
    tether::CondVar not_empty, not_full;
    std::deque<int> q;
    constexpr std::size_t kCap = 3;
    constexpr int kItems = 2000, kConsumers = 3;
    bool closed = false;
    long sum = 0;
    std::thread producer([&] {
      for (int i = 1; i <= kItems; ++i) {
        std::unique_lock lk(mu);
        not_full.wait(lk, [&] { return q.size() < kCap; });
        q.push_back(i);
        not_empty.signal();
      }
      std::lock_guard g(mu);
      closed = true;
      not_empty.broadcast();
    });
    std::vector<tether::FiberRef> consumers;
    for (int c = 0; c < kConsumers; ++c) {
      consumers.push_back(tether::go([&] {
        for (;;) {
          std::unique_lock lk(mu);
          not_empty.wait(lk, [&] { return !q.empty() || closed; });
          if (q.empty()) return;
          sum += q.front();
          q.pop_front();
          not_full.signal();
        }
      }));
    }
    producer.join();
    for (auto& f : consumers) f.join();
    EXPECT_EQ(sum, long{kItems} * (kItems + 1) / 2);
  });
}

// Waiter and signaller are fibers on the same locked thread: the waiter must
// park its fiber, or the signaller could never run.
TEST(CondVar, FibersOnOneLockedThread) {
  Watchdog dog("CondVar.FibersOnOneLockedThread");
  tether::run([] {
    auto gl = tether::ThreadLocker::make("cv-shared");
    tether::Mutex mu;
    tether::CondVar cv;
    int turn = 0;
    constexpr int kRounds = 300;
    // A locker's thread ends when its last locked fiber does: hold each fiber
    // at a gate until all are started.
    std::atomic<bool> gate{false};
    auto player = [&](int me) {
      while (!gate.load()) tether::this_fiber::yield();
      for (int r = 0; r < kRounds; ++r) {
        std::unique_lock lk(mu);
        cv.wait(lk, [&] { return turn % 2 == me; });
        ++turn;
        cv.broadcast();
      }
    };
    auto a = gl.go([&] { player(0); });
    auto b = gl.go([&] { player(1); });
    gate = true;
    a.join();
    b.join();
    EXPECT_EQ(turn, 2 * kRounds);
  });
}

}  // namespace
