// The online detector on real runtime states: take_snapshot() + find_deadlocks().
#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include <unistd.h>

#include "deadlock_detector.h"
#include "tether/chan.h"
#include "tether/fiber.h"
#include "tether/runtime.h"
#include "tether/sys.h"
#include "tether/thread_locker.h"
#include "tether/timer.h"
#include "wait_graph.h"

using namespace std::chrono_literals;
using tether::detail::DeadlockFinding;

namespace {

// Polls until the detector sees exactly `expected` deadlocked fibers (or times out).
DeadlockFinding wait_for_finding(std::size_t expected) {
  DeadlockFinding f;
  for (int i = 0; i < 200; ++i) {
    auto g = tether::detail::take_snapshot();
    f = tether::detail::find_deadlocks(g);
    if (f.deadlocked.size() == expected) return f;
    tether::sleep_for(5ms);
  }
  return f;
}

bool has(const std::vector<std::uint64_t>& v, std::uint64_t x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

}  // namespace

class Detector : public ::testing::Test {
 protected:
  void SetUp() override { setenv("TETHER_DETECT_MS", "0", 1); }  // no watchdog: we look ourselves
  void TearDown() override { unsetenv("TETHER_DETECT_MS"); }
};

TEST_F(Detector, ChannelCycleWhileTheRestRuns) {
  tether::run([] {
    // A setup fiber creates the channels, starts a and b, and ends: fiber 1,
    // which keeps running (sleeping), never had the channels.
    tether::FiberRef a, b;
    tether::go([&] {
      tether::Chan<int> c1(0, "c1"), c2(0, "c2");
      a = tether::go([c1, c2]() mutable {
        c1.send(1);
        c2.recv();
      });
      b = tether::go([c1, c2]() mutable {
        c2.send(2);
        c1.recv();
      });
    }).join();
    auto f = wait_for_finding(2);
    ASSERT_EQ(f.deadlocked.size(), 2u);
    EXPECT_FALSE(f.global);
    EXPECT_TRUE(has(f.deadlocked, a.id()));
    EXPECT_TRUE(has(f.deadlocked, b.id()));
    ASSERT_EQ(f.deadlocks.size(), 1u);
    EXPECT_EQ(f.deadlocks[0].kind, "channel-cycle");
  });
}

TEST_F(Detector, TheCreatorStillRunningCouldWakeThem) {
  tether::run([] {
    // Fiber 1 made the channels and is alive: it could still send. Silence.
    tether::Chan<int> c1(0, "c1"), c2(0, "c2");
    auto a = tether::go([&] {
      c1.send(1);
      c2.recv();
    });
    auto b = tether::go([&] {
      c2.send(2);
      c1.recv();
    });
    tether::sleep_for(50ms);
    auto f = tether::detail::find_deadlocks(tether::detail::take_snapshot());
    EXPECT_TRUE(f.deadlocked.empty());
    c1.recv();  // break the cycle by hand: a gets b's value, b then receives ours
    c1.send(0);
    a.join();
    b.join();
  });
}

TEST_F(Detector, NothingWhileAWakerIsAlive) {
  tether::run([] {
    tether::Chan<int> c(0, "late");
    auto r = tether::go([&] { c.recv(); });
    auto s = tether::go([&] {
      tether::sleep_for(200ms);  // the sender is slow, not absent
      c.send(1);
    });
    tether::sleep_for(50ms);
    auto g = tether::detail::take_snapshot();
    auto f = tether::detail::find_deadlocks(g);
    EXPECT_TRUE(f.deadlocked.empty()) << "false alarm on fiber " << f.deadlocked.front();
    r.join();
    s.join();
  });
}

TEST_F(Detector, GlobalWhenEveryFiberIsBlocked) {
  tether::run([] {
    tether::Chan<int> never(0, "never");
    auto w = tether::go([&] { never.recv(); });
    // Look from a plain thread while fiber 1 is blocked in join too.
    DeadlockFinding f;
    std::thread t([&] {
      std::this_thread::sleep_for(50ms);
      f = tether::detail::find_deadlocks(tether::detail::take_snapshot());
      never.close();  // let the program end
    });
    w.join();
    t.join();
    EXPECT_TRUE(f.global);
    EXPECT_EQ(f.deadlocked.size(), 2u);
  });
}

TEST_F(Detector, SharedThreadSyscall) {
  tether::run([] {
    int fds[2] = {-1, -1};
    tether::FiberRef a, b;
    auto t = tether::ThreadLocker::make("T");
    // Keeps T alive while a and b start (a locker ends with its last fiber).
    tether::go([&] {
      ASSERT_EQ(tether::sys::pipe(fds), 0);
      // A reads on T; B, which would write, is locked to T too and cannot run.
      a = t.go([fd = fds[0]] {
        char c;
        tether::sys::read(fd, &c, 1);
      });
      b = t.go([fd = fds[1]] { tether::sys::write(fd, "x", 1); });
    }).join();
    auto f = wait_for_finding(2);
    ASSERT_EQ(f.deadlocks.size(), 1u);
    EXPECT_EQ(f.deadlocks[0].kind, "shared-thread-syscall");
    auto g = tether::detail::take_snapshot();
    EXPECT_NE(tether::detail::describe_deadlock(g, f.deadlocks[0]).find("read(fd"),
              std::string::npos)
        << tether::detail::describe_deadlock(g, f.deadlocks[0]);
    // Unblock from outside, and let both finish.
    ::write(fds[1], "y", 1);
    a.join();
    b.join();
  });
}

TEST_F(Detector, SnapshotJsonNamesEveryNode) {
  tether::run([] {
    tether::Chan<int> c(0, "requests");
    auto r = tether::go([&] { c.recv(); });
    tether::sleep_for(20ms);
    auto g = tether::detail::take_snapshot();
    const std::string json = tether::detail::to_json(g);
    EXPECT_NE(json.find("\"format\":\"tether-snapshot\""), std::string::npos);
    EXPECT_NE(json.find("\"name\":\"requests\""), std::string::npos);
    EXPECT_NE(json.find("\"state\":\"chan receive\""), std::string::npos);
    c.send(1);
    r.join();
  });
}
