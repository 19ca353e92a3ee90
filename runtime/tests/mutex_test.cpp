// tether::Mutex: exclusion under contention (fibers, plain threads, fibers
// sharing one locked thread), FIFO handoff, holder tracking, wait states,
// misuse, and a randomized stress test of all the sync primitives together.
#include "sync_test_util.h"
#include "tether/mutex.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "deadlock_detector.h"
#include "fiber_registry.h"
#include "mutex.h"
#include "wait_graph.h"
#include "tether/cond_var.h"
#include "tether/errors.h"
#include "tether/fiber.h"
#include "tether/runtime.h"
#include "tether/rw_mutex.h"
#include "tether/thread_locker.h"
#include "tether/timer.h"
#include "tether/wait_group.h"

namespace {

using tether_test::eventually;
using tether_test::pause;
using tether_test::Watchdog;
using tether_test::wait_state_of;

using namespace std::chrono_literals;

TEST(Mutex, ExcludesManyFibers) {
  Watchdog dog("ExcludesManyFibers");
  tether::run([] {
    tether::Mutex mu("counter");
    long counter = 0;  // deliberately not atomic: the mutex must protect it
    constexpr int kFibers = 40, kIters = 500;
    std::vector<tether::FiberRef> fibers;
    for (int i = 0; i < kFibers; ++i) {
      fibers.push_back(tether::go([&] {
        for (int k = 0; k < kIters; ++k) {
          mu.lock();
          long v = counter;
          if (k % 8 == 0) tether::this_fiber::yield();  // widen the window for lost updates
          counter = v + 1;
          mu.unlock();
        }
      }));
    }
    for (auto& f : fibers) f.join();
    EXPECT_EQ(counter, long{kFibers} * kIters);
    EXPECT_FALSE(mu.locked());
  });
}

TEST(Mutex, ExcludesFibersAndPlainThreads) {
  Watchdog dog("ExcludesFibersAndPlainThreads");
  tether::run([] {
    tether::Mutex mu;
    long counter = 0;
    constexpr int kFibers = 8, kThreads = 4, kIters = 2000;
    auto body = [&] {
      for (int k = 0; k < kIters; ++k) {
        std::lock_guard g(mu);
        long v = counter;
        if (k % 16 == 0) pause();
        counter = v + 1;
      }
    };
    std::vector<tether::FiberRef> fibers;
    for (int i = 0; i < kFibers; ++i) fibers.push_back(tether::go(body));
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) threads.emplace_back(body);
    for (auto& t : threads) t.join();
    for (auto& f : fibers) f.join();
    EXPECT_EQ(counter, long{kFibers + kThreads} * kIters);
  });
}

TEST(Mutex, FifoHandoffWithoutBarging) {
  Watchdog dog("FifoHandoffWithoutBarging");
  tether::run([] {
    tether::Mutex mu("fifo");
    constexpr int kWaiters = 6;
    std::vector<int> order;
    std::atomic<bool> gate{false};
    std::vector<tether::FiberRef> fibers;
    mu.lock();
    EXPECT_EQ(mu.holder(), tether::this_fiber::id());
    for (int i = 0; i < kWaiters; ++i) {
      fibers.push_back(tether::go([&, i] {
        mu.lock();
        order.push_back(i);
        if (i == 0) {
          while (!gate.load()) tether::this_fiber::yield();  // hold until the test looked
        }
        mu.unlock();
      }));
      // Queue them one by one so the arrival order is known.
      ASSERT_TRUE(eventually([&] { return mu.core()->waiter_count() == std::size_t(i) + 1; }));
    }
    mu.unlock();
    // Handoff: the mutex went to the oldest waiter inside unlock(), so it is
    // still locked, owned by fiber 0, and a newcomer cannot barge in.
    EXPECT_TRUE(mu.locked());
    EXPECT_EQ(mu.holder(), fibers[0].id());
    EXPECT_FALSE(mu.try_lock());
    gate = true;
    for (auto& f : fibers) f.join();
    std::vector<int> expected;
    for (int i = 0; i < kWaiters; ++i) expected.push_back(i);
    EXPECT_EQ(order, expected);
    EXPECT_FALSE(mu.locked());
    EXPECT_EQ(mu.holder(), 0u);
  });
}

TEST(Mutex, RecordsHolderAndWaitState) {
  Watchdog dog("RecordsHolderAndWaitState");
  tether::run([] {
    tether::Mutex mu("accounts");
    EXPECT_FALSE(mu.locked());
    EXPECT_EQ(mu.name(), "accounts");
    EXPECT_NE(mu.id(), 0u);
    mu.lock();
    const std::uint64_t me = tether::this_fiber::id();
    EXPECT_NE(me, 0u);
    EXPECT_EQ(mu.holder(), me);

    int line = 0;
    auto waiter = tether::go([&] {
      line = __LINE__ + 1;
      mu.lock();
      mu.unlock();
    });
    ASSERT_TRUE(eventually([&] { return mu.core()->waiter_count() == 1; }));
    auto st = wait_state_of(waiter.id());
    ASSERT_TRUE(st.has_value());
    EXPECT_EQ(st->reason, tether::WaitReason::mutex_lock);
    EXPECT_EQ(st->object_id, mu.id());
    ASSERT_NE(st->object_name, nullptr);
    EXPECT_STREQ(st->object_name, "accounts");
    EXPECT_EQ(st->site.line(), static_cast<std::uint_least32_t>(line));
    mu.unlock();
    waiter.join();

    // A plain thread holds it as "fiber 0".
    std::thread([&] {
      mu.lock();
      EXPECT_TRUE(mu.locked());
      EXPECT_EQ(mu.holder(), 0u);
      mu.unlock();
    }).join();
    EXPECT_FALSE(mu.locked());
  });
}

TEST(Mutex, TryLock) {
  tether::run([] {
    tether::Mutex mu;
    EXPECT_TRUE(mu.try_lock());
    EXPECT_FALSE(mu.try_lock());
    bool other = true;
    tether::go([&] { other = mu.try_lock(); }).join();
    EXPECT_FALSE(other);
    mu.unlock();
    tether::go([&] {
      other = mu.try_lock();
      if (other) mu.unlock();
    }).join();
    EXPECT_TRUE(other);
  });
}

TEST(Mutex, UnlockOfUnlockedIsMisuse) {
  tether::run([] {
    tether::Mutex mu("lonely");
    try {
      mu.unlock();
      ADD_FAILURE() << "unlock of an unlocked mutex did not throw";
    } catch (const tether::misuse_error& e) {
      EXPECT_NE(std::string(e.what()).find("lonely"), std::string::npos) << e.what();
      EXPECT_EQ(e.fiber_id(), tether::this_fiber::id());
    }
    mu.lock();
    mu.unlock();
    EXPECT_THROW(mu.unlock(), tether::misuse_error);
    std::thread([&] { EXPECT_THROW(mu.unlock(), tether::misuse_error); }).join();
    // Still usable afterwards.
    EXPECT_TRUE(mu.try_lock());
    mu.unlock();
  });
}

TEST(Mutex, WorksWithStandardLockTypes) {
  tether::run([] {
    tether::Mutex a, b;
    {
      std::scoped_lock both(a, b);
      EXPECT_TRUE(a.locked());
      EXPECT_TRUE(b.locked());
    }
    EXPECT_FALSE(a.locked());
    std::unique_lock lk(a, std::defer_lock);
    EXPECT_TRUE(lk.try_lock());
    lk.unlock();
    EXPECT_FALSE(a.locked());
  });
}

// Several fibers locked to ONE OS thread contend on a Mutex and yield while
// holding it: the waiters must park (the fiber, not the thread), or the holder
// could never run again to unlock.
TEST(Mutex, FibersOnOneLockedThreadContend) {
  Watchdog dog("FibersOnOneLockedThreadContend");
  tether::run([] {
    auto gl = tether::ThreadLocker::make("shared");
    tether::Mutex mu("gl-state");
    long counter = 0;
    std::atomic<int> max_waiters{0};
    // A locker's thread ends when its last locked fiber does: hold each fiber
    // at a gate until all are started.
    std::atomic<bool> gate{false};
    constexpr int kFibers = 5, kIters = 200;
    std::vector<tether::FiberRef> fibers;
    for (int i = 0; i < kFibers; ++i) {
      fibers.push_back(gl.go([&] {
        while (!gate.load()) tether::this_fiber::yield();
        for (int k = 0; k < kIters; ++k) {
          mu.lock();
          long v = counter;
          tether::this_fiber::yield();  // the others run on this thread and block on mu
          int w = static_cast<int>(mu.core()->waiter_count());
          if (w > max_waiters.load()) max_waiters = w;
          counter = v + 1;
          mu.unlock();
        }
      }));
    }
    // A pool fiber joins the contention from another thread.
    fibers.push_back(tether::go([&] {
      for (int k = 0; k < kIters; ++k) {
        std::lock_guard g(mu);
        ++counter;
      }
    }));
    gate = true;
    for (auto& f : fibers) f.join();
    EXPECT_EQ(counter, long{kFibers + 1} * kIters);
    // The locked fibers really did wait for each other on the shared thread.
    EXPECT_GE(max_waiters.load(), 2);
  });
}

TEST(Mutex, DescribesItselfForTheWaitGraph) {
  Watchdog dog("DescribesItselfForTheWaitGraph");
  tether::run([] {
    tether::Mutex mu("described");
    auto* core = mu.core();
    tether::detail::ObjectState st;
    core->describe(st);
    EXPECT_TRUE(st.holders.empty());
    EXPECT_TRUE(st.waiting.empty());

    mu.lock();
    const std::uint64_t me = tether::this_fiber::id();
    auto waiter = tether::go([&] {
      mu.lock();
      mu.unlock();
    });
    ASSERT_TRUE(eventually([&] { return core->waiter_count() == 1; }));
    st = {};
    core->describe(st);
    EXPECT_EQ(st.holders, std::vector<std::uint64_t>{me});
    ASSERT_EQ(st.waiting.size(), 1u);
    EXPECT_EQ(st.waiting[0].first, waiter.id());
    EXPECT_NE(std::find(st.users.begin(), st.users.end(), me), st.users.end());
    EXPECT_NE(std::find(st.users.begin(), st.users.end(), waiter.id()), st.users.end());
    EXPECT_FALSE(st.used_by_plain_thread);
    mu.unlock();
    waiter.join();

    // Held by a plain thread: the holder is that thread's own id (the
    // detector tells one blocked in call() apart); the API's holder() is 0.
    std::atomic<bool> held{false}, release{false};
    std::uint64_t plain_id = 0;
    std::thread t([&] {
      mu.lock();
      plain_id = tether::detail::plain_thread_id();
      held = true;
      while (!release.load()) std::this_thread::yield();
      mu.unlock();
    });
    ASSERT_TRUE(eventually([&] { return held.load(); }));
    st = {};
    core->describe(st);
    EXPECT_TRUE(tether::detail::is_plain_thread_id(plain_id));
    EXPECT_EQ(st.holders, std::vector<std::uint64_t>{plain_id});
    EXPECT_EQ(mu.holder(), 0u);
    release = true;
    t.join();
  });
}

// Sets an environment variable for the scope of a test.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) { setenv(name, value, 1); }
  ~ScopedEnv() { unsetenv(name_); }

 private:
  const char* name_;
};

// Polls the detector (as its watchdog would) until it sees `expected`
// deadlocked fibers or `limit` passes.
tether::detail::DeadlockFinding find_deadlocks_within(std::size_t expected,
                                                      std::chrono::milliseconds limit) {
  tether::detail::DeadlockFinding f;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  do {
    f = tether::detail::find_deadlocks(tether::detail::take_snapshot());
    if (f.deadlocked.size() == expected) break;
    tether::sleep_for(5ms);
  } while (std::chrono::steady_clock::now() < deadline);
  return f;
}

// The classic ABBA deadlock between two fibers: the holders Mutex reports
// let the detector close the cycle.
TEST(MutexDetector, LockCycleIsReported) {
  ScopedEnv no_watchdog("TETHER_DETECT_MS", "0");  // we run the detector ourselves
  tether::run([] {
    // Leaked on purpose: the deadlocked fibers are abandoned by run(), still queued.
    auto* m1 = new tether::Mutex("m1");
    auto* m2 = new tether::Mutex("m2");
    std::atomic<int> holding{0};
    auto a = tether::go([&holding, m1, m2] {
      m1->lock();
      holding.fetch_add(1);
      while (holding.load() < 2) tether::this_fiber::yield();
      m2->lock();
    });
    auto b = tether::go([&holding, m1, m2] {
      m2->lock();
      holding.fetch_add(1);
      while (holding.load() < 2) tether::this_fiber::yield();
      m1->lock();
    });
    auto f = find_deadlocks_within(2, 10s);
    ASSERT_EQ(f.deadlocked.size(), 2u);
    EXPECT_FALSE(f.global);  // fiber 1 still runs
    EXPECT_TRUE(std::binary_search(f.deadlocked.begin(), f.deadlocked.end(), a.id()));
    EXPECT_TRUE(std::binary_search(f.deadlocked.begin(), f.deadlocked.end(), b.id()));
    ASSERT_EQ(f.deadlocks.size(), 1u);
    EXPECT_EQ(f.deadlocks[0].kind, "lock-cycle");
  });
}

// Near miss: a fiber waits for a mutex whose holder is asleep (it will wake
// and unlock). The detector must stay silent the whole time.
TEST(MutexDetector, WaitingForASleepingHolderIsNotADeadlock) {
  ScopedEnv no_watchdog("TETHER_DETECT_MS", "0");
  tether::run([] {
    tether::Mutex m("slow");
    std::atomic<bool> held{false};
    auto holder = tether::go([&] {
      m.lock();
      held = true;
      tether::sleep_for(300ms);
      m.unlock();
    });
    ASSERT_TRUE(eventually([&] { return held.load(); }));
    auto waiter = tether::go([&] {
      m.lock();
      m.unlock();
    });
    ASSERT_TRUE(eventually([&] { return m.core()->waiter_count() == 1; }));
    for (int i = 0; i < 10; ++i) {
      auto f = tether::detail::find_deadlocks(tether::detail::take_snapshot());
      EXPECT_TRUE(f.deadlocked.empty()) << "false alarm on check " << i;
      tether::sleep_for(10ms);
    }
    holder.join();
    waiter.join();
  });
}

// Random operations on a Mutex-protected bank, an RWMutex-protected table, a
// CondVar-driven bounded queue and a WaitGroup, from pool fibers, fibers on
// two locked threads and plain threads. Checks the invariants each primitive
// promises; a lost wake-up shows up as the watchdog firing.
TEST(SyncStress, RandomMixedOperations) {
  Watchdog dog("SyncStress.RandomMixedOperations", 120s);
  tether::run([] {
    constexpr int kAccounts = 8, kTotal = 8000;
    tether::Mutex bank_mu("bank");
    std::vector<long> accounts(kAccounts, kTotal / kAccounts);
    tether::RWMutex table_mu("table");
    std::vector<int> table(16, 0);  // writers keep every entry equal
    std::atomic<int> writers_inside{0};

    tether::Mutex q_mu("queue");
    tether::CondVar not_empty("not-empty"), not_full("not-full");
    std::vector<int> queue;
    constexpr std::size_t kQueueCap = 4;
    long produced_sum = 0, consumed_sum = 0;

    constexpr int kWorkers = 12, kOps = 1500;
    tether::WaitGroup wg("workers");
    wg.add(kWorkers);
    auto worker = [&](unsigned seed) {
      std::mt19937 rng(seed);
      for (int op = 0; op < kOps; ++op) {
        switch (rng() % 4) {
          case 0: {  // transfer
            int from = rng() % kAccounts, to = rng() % kAccounts;
            std::lock_guard g(bank_mu);
            long amount = accounts[from] / 2;
            accounts[from] -= amount;
            if (rng() % 4 == 0) pause();
            accounts[to] += amount;
            break;
          }
          case 1: {  // audit
            std::lock_guard g(bank_mu);
            long sum = 0;
            for (long a : accounts) sum += a;
            EXPECT_EQ(sum, kTotal);
            break;
          }
          case 2: {  // table read or write
            if (rng() % 3 == 0) {
              std::lock_guard g(table_mu);
              EXPECT_EQ(writers_inside.fetch_add(1), 0);
              for (int& v : table) {
                ++v;
                if (rng() % 8 == 0) pause();
              }
              writers_inside.fetch_sub(1);
            } else {
              std::shared_lock r(table_mu);
              EXPECT_EQ(writers_inside.load(), 0);
              int first = table[0];
              if (rng() % 4 == 0) pause();
              for (int v : table) EXPECT_EQ(v, first);
            }
            break;
          }
          case 3: {  // produce then consume one item through the bounded queue
            int item = static_cast<int>(rng() % 1000);
            {
              std::unique_lock lk(q_mu);
              not_full.wait(lk, [&] { return queue.size() < kQueueCap; });
              queue.push_back(item);
              produced_sum += item;
            }
            not_empty.signal();
            {
              std::unique_lock lk(q_mu);
              not_empty.wait(lk, [&] { return !queue.empty(); });
              consumed_sum += queue.back();
              queue.pop_back();
            }
            not_full.signal();
            break;
          }
        }
      }
      wg.done();
    };
    // A locker's thread ends when its last locked fiber does: hold each fiber
    // at a gate until all are started.
    std::atomic<bool> gate{false};
    auto gated = [&](unsigned seed) {
      while (!gate.load()) pause();
      worker(seed);
    };
    auto l1 = tether::ThreadLocker::make("stress-1");
    auto l2 = tether::ThreadLocker::make("stress-2");
    std::vector<std::thread> threads;
    for (int i = 0; i < kWorkers; ++i) {
      unsigned seed = 1234u + static_cast<unsigned>(i);
      switch (i % 4) {
        case 0: tether::go([=] { gated(seed); }); break;
        case 1: l1.go([=] { gated(seed); }); break;
        case 2: l2.go([=] { gated(seed); }); break;
        case 3: threads.emplace_back(gated, seed); break;
      }
    }
    gate = true;
    wg.wait();
    for (auto& t : threads) t.join();
    EXPECT_EQ(wg.count(), 0);
    long sum = 0;
    for (long a : accounts) sum += a;
    EXPECT_EQ(sum, kTotal);
    EXPECT_TRUE(queue.empty());
    EXPECT_EQ(produced_sum, consumed_sum);
    EXPECT_FALSE(bank_mu.locked());
    EXPECT_FALSE(table_mu.write_locked());
    EXPECT_EQ(table_mu.reader_count(), 0u);
  });
}

}  // namespace
