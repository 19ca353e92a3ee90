// tether::RWMutex: readers in parallel, writers exclusive, Go's rule that a
// waiting writer holds back new readers (no writer starvation), reader/writer
// tracking, wait states and misuse.
#include "sync_test_util.h"
#include "tether/rw_mutex.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "fiber_registry.h"
#include "rw_mutex.h"
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

// All readers must be inside at the same time: each waits, holding the read
// lock, until every other reader has arrived. An exclusive lock would time out.
TEST(RWMutex, ReadersRunInParallel) {
  Watchdog dog("ReadersRunInParallel");
  tether::run([] {
    tether::RWMutex mu("shared");
    constexpr int kFiberReaders = 6, kThreadReaders = 2, kAll = kFiberReaders + kThreadReaders;
    std::atomic<int> inside{0};
    std::atomic<int> all_met{0};
    auto reader = [&] {
      std::shared_lock r(mu);
      inside.fetch_add(1);
      if (eventually([&] { return inside.load() == kAll; }, 10s)) all_met.fetch_add(1);
    };
    std::vector<tether::FiberRef> fibers;
    for (int i = 0; i < kFiberReaders; ++i) fibers.push_back(tether::go(reader));
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreadReaders; ++i) threads.emplace_back(reader);
    for (auto& t : threads) t.join();
    for (auto& f : fibers) f.join();
    EXPECT_EQ(all_met.load(), kAll);
    EXPECT_EQ(mu.reader_count(), 0u);
  });
}

TEST(RWMutex, WriterExcludesReadersAndWriters) {
  Watchdog dog("WriterExcludesReadersAndWriters");
  tether::run([] {
    tether::RWMutex mu;
    std::atomic<int> writers{0}, readers{0};
    std::atomic<int> violations{0};
    constexpr int kFibers = 12, kIters = 300;
    std::vector<tether::FiberRef> fibers;
    for (int i = 0; i < kFibers; ++i) {
      fibers.push_back(tether::go([&, i] {
        for (int k = 0; k < kIters; ++k) {
          if ((i + k) % 3 == 0) {
            mu.lock();
            if (writers.fetch_add(1) != 0 || readers.load() != 0) violations.fetch_add(1);
            if (k % 4 == 0) tether::this_fiber::yield();
            writers.fetch_sub(1);
            mu.unlock();
          } else {
            mu.rlock();
            readers.fetch_add(1);
            if (writers.load() != 0) violations.fetch_add(1);
            if (k % 4 == 0) tether::this_fiber::yield();
            readers.fetch_sub(1);
            mu.runlock();
          }
        }
      }));
    }
    for (auto& f : fibers) f.join();
    EXPECT_EQ(violations.load(), 0);
    EXPECT_FALSE(mu.write_locked());
    EXPECT_EQ(mu.reader_count(), 0u);
  });
}

// Go's rule, step by step: reader R1 holds; writer W queues; a new reader R2
// must now queue behind W (and try_rlock fail); R1 leaves -> W gets it;
// W leaves -> R2 gets in.
TEST(RWMutex, WaitingWriterBlocksNewReaders) {
  Watchdog dog("WaitingWriterBlocksNewReaders");
  tether::run([] {
    tether::RWMutex mu("cfg");
    auto* core = mu.core();
    mu.rlock();
    std::atomic<bool> w_in{false}, w_release{false}, r2_in{false};
    auto w = tether::go([&] {
      mu.lock();
      w_in = true;
      while (!w_release.load()) tether::this_fiber::yield();
      mu.unlock();
    });
    ASSERT_TRUE(eventually([&] { return core->waiting_writers() == 1; }));
    EXPECT_FALSE(mu.try_rlock());
    auto r2 = tether::go([&] {
      mu.rlock();
      r2_in = true;
      mu.runlock();
    });
    ASSERT_TRUE(eventually([&] { return core->waiting_readers() == 1; }));
    EXPECT_FALSE(r2_in.load());
    EXPECT_EQ(mu.reader_count(), 1u);

    mu.runlock();  // hands the lock to the writer
    EXPECT_TRUE(mu.write_locked());
    EXPECT_EQ(mu.writer(), w.id());
    ASSERT_TRUE(eventually([&] { return w_in.load(); }));
    EXPECT_FALSE(r2_in.load());
    EXPECT_EQ(core->waiting_readers(), 1u);
    w_release = true;
    w.join();
    r2.join();
    EXPECT_TRUE(r2_in.load());
    EXPECT_FALSE(mu.write_locked());
    EXPECT_EQ(mu.reader_count(), 0u);
  });
}

// Readers that keep overlapping would starve a writer under a reader-preferring
// lock; here the writer must get in while they keep going.
TEST(RWMutex, WritersDoNotStarve) {
  Watchdog dog("WritersDoNotStarve");
  tether::run([] {
    tether::RWMutex mu;
    std::atomic<bool> stop{false};
    std::atomic<long> reads{0};
    std::vector<tether::FiberRef> readers;
    for (int i = 0; i < 4; ++i) {
      readers.push_back(tether::go([&] {
        while (!stop.load()) {
          mu.rlock();
          reads.fetch_add(1);
          tether::this_fiber::yield();  // hold the read lock across a switch
          mu.runlock();
        }
      }));
    }
    std::thread plain_reader([&] {
      while (!stop.load()) {
        std::shared_lock r(mu);
        reads.fetch_add(1);
        std::this_thread::yield();
      }
    });
    ASSERT_TRUE(eventually([&] { return reads.load() > 100; }));
    int writes = 0;
    for (int i = 0; i < 20; ++i) {
      mu.lock();  // would hang (watchdog) if readers could keep overlapping
      ++writes;
      mu.unlock();
      tether::this_fiber::yield();
    }
    stop = true;
    plain_reader.join();
    for (auto& r : readers) r.join();
    EXPECT_EQ(writes, 20);
  });
}

TEST(RWMutex, TracksWriterAndReaders) {
  tether::run([] {
    tether::RWMutex mu("tracked");
    mu.lock();
    EXPECT_TRUE(mu.write_locked());
    EXPECT_EQ(mu.writer(), tether::this_fiber::id());
    EXPECT_FALSE(mu.try_lock());
    EXPECT_FALSE(mu.try_rlock());
    mu.unlock();
    EXPECT_EQ(mu.writer(), 0u);

    std::atomic<int> holding{0};
    std::atomic<bool> release{false};
    std::vector<tether::FiberRef> fibers;
    for (int i = 0; i < 3; ++i) {
      fibers.push_back(tether::go([&] {
        mu.rlock();
        holding.fetch_add(1);
        while (!release.load()) tether::this_fiber::yield();
        mu.runlock();
      }));
    }
    ASSERT_TRUE(eventually([&] { return holding.load() == 3; }));
    EXPECT_EQ(mu.reader_count(), 3u);
    auto ids = mu.readers();
    std::sort(ids.begin(), ids.end());
    std::vector<std::uint64_t> expected;
    for (auto& f : fibers) expected.push_back(f.id());
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(ids, expected);
    EXPECT_FALSE(mu.try_lock());
    release = true;
    for (auto& f : fibers) f.join();
    EXPECT_TRUE(mu.readers().empty());

    // A plain thread is counted but has no fiber id.
    std::thread([&] {
      mu.rlock();
      EXPECT_EQ(mu.reader_count(), 1u);
      EXPECT_TRUE(mu.readers().empty());
      mu.runlock();
    }).join();

    // More readers than tracked: the count stays exact, the id list is capped.
    constexpr int kMany = static_cast<int>(tether::RWMutex::kTrackedReaders) + 4;
    for (int i = 0; i < kMany; ++i) mu.rlock();
    EXPECT_EQ(mu.reader_count(), std::size_t(kMany));
    EXPECT_EQ(mu.readers().size(), tether::RWMutex::kTrackedReaders);
    for (int i = 0; i < kMany; ++i) mu.runlock();
    EXPECT_EQ(mu.reader_count(), 0u);
    EXPECT_TRUE(mu.readers().empty());
  });
}

TEST(RWMutex, RecordsWaitStates) {
  Watchdog dog("RecordsWaitStates");
  tether::run([] {
    tether::RWMutex mu("rw-states");
    mu.lock();
    auto wr = tether::go([&] {
      mu.lock();
      mu.unlock();
    });
    ASSERT_TRUE(eventually([&] { return mu.core()->waiting_writers() == 1; }));
    auto rd = tether::go([&] {
      mu.rlock();
      mu.runlock();
    });
    ASSERT_TRUE(eventually([&] { return mu.core()->waiting_readers() == 1; }));
    auto ws = wait_state_of(wr.id());
    auto rs = wait_state_of(rd.id());
    ASSERT_TRUE(ws && rs);
    EXPECT_EQ(ws->reason, tether::WaitReason::rwmutex_lock);
    EXPECT_EQ(rs->reason, tether::WaitReason::rwmutex_rlock);
    EXPECT_EQ(ws->object_id, mu.id());
    EXPECT_EQ(rs->object_id, mu.id());
    EXPECT_STREQ(rs->object_name, "rw-states");
    mu.unlock();
    wr.join();
    rd.join();
  });
}

TEST(RWMutex, MisuseIsReported) {
  tether::run([] {
    tether::RWMutex mu("misused");
    EXPECT_THROW(mu.unlock(), tether::misuse_error);
    EXPECT_THROW(mu.runlock(), tether::misuse_error);
    mu.rlock();
    EXPECT_THROW(mu.unlock(), tether::misuse_error);  // read-locked, not write-locked
    mu.runlock();
    mu.lock();
    try {
      mu.runlock();  // write-locked, not read-locked
      ADD_FAILURE() << "runlock of a write-locked RWMutex did not throw";
    } catch (const tether::misuse_error& e) {
      EXPECT_NE(std::string(e.what()).find("misused"), std::string::npos) << e.what();
    }
    mu.unlock();
    std::thread([&] { EXPECT_THROW(mu.runlock(), tether::misuse_error); }).join();
    // State is intact.
    EXPECT_TRUE(mu.try_lock());
    mu.unlock();
  });
}

// Fibers sharing one locked thread: a reader yields while holding, a writer
// on the same thread must park (not block the thread) until it leaves.
TEST(RWMutex, FibersOnOneLockedThread) {
  Watchdog dog("RWMutex.FibersOnOneLockedThread");
  tether::run([] {
    auto gl = tether::ThreadLocker::make("rw-shared");
    tether::RWMutex mu;
    int value = 0;
    // A locker's thread ends when its last locked fiber does: hold each fiber
    // at a gate until all are started.
    std::atomic<bool> gate{false};
    constexpr int kIters = 200;
    std::vector<tether::FiberRef> fibers;
    for (int i = 0; i < 4; ++i) {
      fibers.push_back(gl.go([&, i] {
        while (!gate.load()) tether::this_fiber::yield();
        for (int k = 0; k < kIters; ++k) {
          if (i % 2 == 0) {
            std::lock_guard g(mu);
            int v = value;
            tether::this_fiber::yield();
            value = v + 1;
          } else {
            std::shared_lock r(mu);
            int v = value;
            tether::this_fiber::yield();
            EXPECT_EQ(value, v);
          }
        }
      }));
    }
    gate = true;
    for (auto& f : fibers) f.join();
    EXPECT_EQ(value, 2 * kIters);
  });
}

}  // namespace
