// Biased spin locks (spin_lock.h): a lock one thread keeps taking becomes
// that thread's, taken with plain stores; any other thread still excludes it.
#include "spin_lock.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <thread>

namespace {

using tether::detail::BiasedLockInspection;
using tether::detail::SpinLock;

void take(SpinLock& l, int times) {
  for (int i = 0; i < times; ++i) {
    l.lock();
    l.unlock();
  }
}

// Two threads add to a plain counter under the lock, the second one each
// time inside its own inspection if `inspect`; a lost update means the lock
// let both in. `dawdle` lengthens the critical section: longer than the
// other side's membarrier(), it catches an owner that is still inside.
std::uint64_t hammer(SpinLock& l, int per_thread, bool inspect, int dawdle = 40) {
  std::uint64_t counter = 0;
  std::atomic<int> ready{0};
  auto add = [&](bool second) {
    ready.fetch_add(1);
    while (ready.load() < 2) {
    }
    for (int i = 0; i < per_thread; ++i) {
      std::optional<BiasedLockInspection> insp;
      if (second && inspect) insp.emplace();
      l.lock();
      // Read, dawdle, write: a long critical section, so that one that
      // overlaps another shows as a lost update.
      const std::uint64_t seen = counter;
      for (int spin = 0; spin < dawdle; ++spin) asm volatile("");
      counter = seen + 1;
      l.unlock();
    }
  };
  std::thread second(add, true);
  add(false);
  second.join();
  return counter;
}

TEST(SpinLock, OneThreadsLockBecomesBiasedToIt) {
  if (!SpinLock::bias_supported()) GTEST_SKIP() << "no membarrier, or TSan";
  SpinLock l(SpinLock::biasable);
  take(l, SpinLock::kBiasAfter - 2);
  EXPECT_FALSE(l.is_biased());
  take(l, 2);
  EXPECT_TRUE(l.is_biased());
  take(l, 1000);  // the owner's fast path
  EXPECT_TRUE(l.is_biased());
}

TEST(SpinLock, InternalLocksAreNeverBiased) {
  SpinLock l;
  take(l, 10 * SpinLock::kBiasAfter);
  EXPECT_FALSE(l.is_biased());
}

TEST(SpinLock, AnotherThreadRevokesTheBiasAndBothAreExcluded) {
  if (!SpinLock::bias_supported()) GTEST_SKIP() << "no membarrier, or TSan";
  // Many locks, so that revocations race with the owner's fast path, and
  // critical sections of ~10-50 us, longer than a membarrier().
  for (int round = 0; round < 100; ++round) {
    SpinLock l(SpinLock::biasable);
    take(l, SpinLock::kBiasAfter);
    ASSERT_TRUE(l.is_biased());
    constexpr int kPerThread = 20;
    ASSERT_EQ(hammer(l, kPerThread, false, 50000), 2u * kPerThread) << "round " << round;
    EXPECT_TRUE(l.is_shared());
  }
}

// Another thread that arrives while the owner is inside (through its fast
// path) gets the lock only once the owner has left: `inspect` false revokes,
// true inspects.
void arrive_while_owner_inside(bool inspect) {
  SpinLock l(SpinLock::biasable);
  take(l, SpinLock::kBiasAfter);
  ASSERT_TRUE(l.is_biased());
  std::atomic<bool> inside{false}, left{false};
  bool saw_owner_gone = false;
  std::thread other([&] {
    std::optional<BiasedLockInspection> insp;
    if (inspect) insp.emplace();
    while (!inside.load()) {
    }
    l.lock();
    saw_owner_gone = left.load();
    l.unlock();
  });
  l.lock();
  inside = true;
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  left = true;
  l.unlock();
  other.join();
  EXPECT_TRUE(saw_owner_gone);
  EXPECT_EQ(l.is_biased(), inspect);
}

TEST(SpinLock, RevocationWaitsForTheOwnerToLeave) {
  if (!SpinLock::bias_supported()) GTEST_SKIP() << "no membarrier, or TSan";
  arrive_while_owner_inside(false);
}

TEST(SpinLock, InspectionWaitsForTheOwnerToLeave) {
  if (!SpinLock::bias_supported()) GTEST_SKIP() << "no membarrier, or TSan";
  arrive_while_owner_inside(true);
}

TEST(SpinLock, InspectionsExcludeTheOwnerWithoutRevoking) {
  if (!SpinLock::bias_supported()) GTEST_SKIP() << "no membarrier, or TSan";
  SpinLock l(SpinLock::biasable);
  take(l, SpinLock::kBiasAfter);
  ASSERT_TRUE(l.is_biased());
  // Each of the second thread's locks in its own inspection: the owner
  // switches between its fast path and the ordinary lock all along.
  constexpr int kPerThread = 20000;
  EXPECT_EQ(hammer(l, kPerThread, true), 2u * kPerThread);
  constexpr int kSlow = 500;
  EXPECT_EQ(hammer(l, kSlow, true, 50000), 2u * kSlow);
  EXPECT_TRUE(l.is_biased());  // the owner keeps it
}

TEST(SpinLock, ALockWhoseTakersKeepChangingStopsLearning) {
  SpinLock l(SpinLock::biasable);
  for (int round = 0; round <= SpinLock::kMaxTakerChanges; ++round) {
    std::thread([&] { take(l, 1); }).join();
    take(l, 1);
  }
  EXPECT_TRUE(l.is_shared());
  take(l, 10 * SpinLock::kBiasAfter);
  EXPECT_FALSE(l.is_biased());
}

}  // namespace
