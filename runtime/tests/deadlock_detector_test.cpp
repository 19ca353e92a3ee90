// The online detector on real runtime states: take_snapshot() + find_deadlocks().
#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>
#include <optional>
#include <thread>

#include <unistd.h>

#include "deadlock_detector.h"
#include "lock_order.h"
#include "tether/chan.h"
#include "tether/fiber.h"
#include "tether/mutex.h"
#include "tether/rw_mutex.h"
#include "tether/runtime.h"
#include "tether/select.h"
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

// ---- plain threads in ThreadLocker::call() (built graphs: the model alone) ----

namespace {

namespace td = tether::detail;
constexpr std::uint64_t kPlain = td::kPlainThreadTag | 1;

// Plain thread kPlain (tid 4242) blocked in call() into thread "gl" (100),
// waiting for call fiber 6: the graphs below share it.
td::PlainThreadNode plain_in_call_for_fiber6() {
  td::PlainThreadNode p;
  p.id = kPlain;
  p.name = "thread 4242";
  p.tid = 4242;
  p.call_fiber = 6;
  p.locker = 100;
  return p;
}

// The shape of LockOrderHeld.PlainThreadCallIntoTheHolderIsADeadlock: fiber
// 5 "holder" on thread "gl" holds mutex 2 and receives on chan 1; call fiber
// 6 waits for mutex 2; plain thread 1 received on chan 1 and is in call()
// for fiber 6; fiber 1 (main) is asleep.
td::WaitGraph plain_call_graph() {
  td::WaitGraph g;
  g.threads.push_back({100, "gl", "locker"});
  td::FiberNode main, holder, call;
  main.id = 1;
  main.reason = tether::WaitReason::sleep;
  holder.id = 5;
  holder.name = "holder";
  holder.reason = tether::WaitReason::chan_receive;
  holder.object_id = 1;
  holder.parent = 3;  // gone
  holder.locked_to = 100;
  call.id = 6;
  call.name = "call:gl";
  call.reason = tether::WaitReason::mutex_lock;
  call.object_id = 2;
  call.is_call = true;  // parent 0: made by a plain thread
  call.locked_to = 100;
  g.fibers = {main, holder, call};
  td::ObjectNode chan, mu;
  chan.id = 1;
  chan.kind = td::ObjectKind::chan;
  chan.name = "sig";
  chan.creator = 3;
  chan.watermark = 4;
  chan.state.senders = {5};
  chan.state.receivers = {kPlain, 5};
  chan.state.waiting = {{5, false}};
  mu.id = 2;
  mu.kind = td::ObjectKind::mutex;
  mu.name = "state";
  mu.state.holders = {5};
  mu.state.waiting = {{6, false}};
  g.objects = {chan, mu};
  g.plain_threads = {plain_in_call_for_fiber6()};
  g.index();
  td::build_edges(g);
  return g;
}

td::DeadlockFinding find(td::WaitGraph g) {
  g.index();
  return td::find_deadlocks(g);
}

}  // namespace

TEST(DetectorModel, PlainThreadInCallForADeadlockedFiberIsNoWaker) {
  const td::WaitGraph g = plain_call_graph();
  const td::DeadlockFinding f = td::find_deadlocks(g);
  EXPECT_EQ(f.deadlocked, (std::vector<std::uint64_t>{5, 6}));
  EXPECT_FALSE(f.global);
  ASSERT_EQ(f.deadlocks.size(), 1u);
  const td::Deadlock& d = f.deadlocks[0];
  EXPECT_EQ(d.kind, "channel-cycle");  // not self-request: the plain thread is the other side
  EXPECT_EQ(d.nodes, (std::vector<std::string>{"fiber:5", "chan:1", "plain:1", "fiber:6", "mutex:2",
                                               "fiber:5"}));
  EXPECT_NE(d.explanation.find("fiber 5 (chan receive) can only be woken by fiber 6 \"call:gl\", "
                               "thread 4242 (not a fiber) (waiting in call() into thread \"gl\" "
                               "for fiber 6 \"call:gl\"), all blocked here too"),
            std::string::npos)
      << d.explanation;
  const std::string text = td::describe_deadlock(g, d);
  EXPECT_NE(text.find("cycle: fiber 5 \"holder\" -> chan 1 \"sig\" -> thread 4242 (not a fiber) -> "
                      "fiber 6 \"call:gl\" -> mutex 2 \"state\" -> fiber 5 \"holder\""),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("thread 4242 (not a fiber) [call] waits for fiber 6 \"call:gl\" in call() "
                      "into thread \"gl\""),
            std::string::npos)
      << text;
}

// Near misses: a plain thread not in call(), one in call() for a fiber that
// can still run, and one not told apart (0) are all possible wakers.
TEST(DetectorModel, PlainThreadOutsideCallOrForALiveFiberCanWake) {
  td::WaitGraph g = plain_call_graph();
  g.plain_threads.clear();  // not in call(): blocked in something not modelled, or running
  EXPECT_TRUE(find(g).deadlocked.empty());

  g = plain_call_graph();
  g.plain_threads[0].call_fiber = 7;  // its call fiber has gone (finishing): it acts next
  EXPECT_TRUE(find(g).deadlocked.empty());

  g = plain_call_graph();
  td::FiberNode other;  // in call() for a fiber that runs
  other.id = 7;
  other.reason = tether::WaitReason::running;
  other.is_call = true;
  g.fibers.push_back(other);
  g.plain_threads[0].call_fiber = 7;
  EXPECT_TRUE(find(g).deadlocked.empty());

  g = plain_call_graph();
  g.objects[0].state.receivers = {0, 5};  // some plain thread, not told apart
  EXPECT_TRUE(find(g).deadlocked.empty());

  g = plain_call_graph();
  g.objects[0].state.receivers.push_back(td::kPlainThreadTag | 2);  // a second plain thread, not in call()
  EXPECT_TRUE(find(g).deadlocked.empty());
}

// Its call fiber waits on a channel only the plain thread itself used: the
// thread cannot send until the call returns (one fiber, one plain thread).
TEST(DetectorModel, CallFiberWaitingForItsOwnPlainCaller) {
  td::WaitGraph g;
  g.threads.push_back({100, "gl", "locker"});
  td::FiberNode call;
  call.id = 6;
  call.reason = tether::WaitReason::chan_receive;
  call.object_id = 1;
  call.is_call = true;
  call.locked_to = 100;
  g.fibers = {call};
  td::ObjectNode chan;
  chan.id = 1;
  chan.kind = td::ObjectKind::chan;
  chan.watermark = 7;  // made after the call fiber
  chan.state.senders = {kPlain};
  chan.state.waiting = {{6, false}};
  g.objects = {chan};
  td::PlainThreadNode p;
  p.id = kPlain;
  p.name = "thread 9";
  p.call_fiber = 6;
  p.locker = 100;
  g.plain_threads = {p};
  const td::DeadlockFinding f = find(g);
  EXPECT_EQ(f.deadlocked, (std::vector<std::uint64_t>{6}));
  ASSERT_EQ(f.deadlocks.size(), 1u);
  EXPECT_EQ(f.deadlocks[0].nodes,
            (std::vector<std::string>{"fiber:6", "chan:1", "plain:1", "fiber:6"}));
}

// The snapshot JSON lists plain threads in call() (optional member) and keeps
// their node kind out of edges and deadlocks (version 1 readers).
TEST(DetectorModel, SnapshotJsonListsPlainThreadsInCall) {
  td::WaitGraph g = plain_call_graph();
  g.deadlocks = td::find_deadlocks(g).deadlocks;
  const std::string json = td::to_json(g);
  EXPECT_NE(json.find("\"plain_threads\":[{\"id\":1,\"name\":\"thread 4242\",\"tid\":4242,"
                      "\"state\":\"call\",\"waits_for\":\"fiber:6\",\"thread\":100,"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find("\"receivers\":[5],\"plain_receivers\":[1]"), std::string::npos) << json;
  EXPECT_EQ(json.find("\"plain:"), std::string::npos) << json;
  EXPECT_NE(json.find("\"nodes\":[\"fiber:5\",\"chan:1\",\"fiber:6\",\"mutex:2\",\"fiber:5\"]"),
            std::string::npos)
      << json;
  g.plain_threads.clear();
  EXPECT_EQ(td::to_json(g).find("plain_threads"), std::string::npos);  // absent = none
}

// select() on a plain thread records the thread by its own id among the
// channels' users, as a plain send/receive does (it recorded 0: "some plain
// thread", always a possible waker, even one blocked in call()).
TEST_F(Detector, PlainThreadSelectIsRecordedByItsOwnId) {
  tether::run([] {
    tether::Chan<int> in(0, "in"), out(0, "out");
    const std::uint64_t in_id = in.core()->id(), out_id = out.core()->id();
    int chosen = -1;
    std::thread([&] {
      chosen = tether::select(tether::recv(in, [](std::optional<int>) {}),
                              tether::send(out, 1, [] {}), tether::otherwise([] {}));
    }).join();
    EXPECT_EQ(chosen, 2);  // nothing ready
    const auto g = tether::detail::take_snapshot();
    const auto* i = g.object(in_id);
    const auto* o = g.object(out_id);
    ASSERT_TRUE(i && o);
    ASSERT_EQ(i->state.receivers.size(), 1u);
    ASSERT_EQ(o->state.senders.size(), 1u);
    EXPECT_TRUE(tether::detail::is_plain_thread_id(i->state.receivers[0]));
    EXPECT_EQ(o->state.senders[0], i->state.receivers[0]);  // the same thread
    EXPECT_FALSE(i->state.used_by_plain_thread);
    EXPECT_FALSE(o->state.used_by_plain_thread);
  });
}

namespace {

// The shape of LockOrderHeld.PlainThreadHoldingTheLockItsCallNeedsIsADeadlock:
// plain thread 1 holds mutex 2 "state" and is in call() into thread "gl" for
// call fiber 6, which waits for "state"; fiber 1 (main) is asleep.
td::WaitGraph plain_holder_graph(td::ObjectKind kind = td::ObjectKind::mutex) {
  td::WaitGraph g;
  g.threads.push_back({100, "gl", "locker"});
  td::FiberNode main, call;
  main.id = 1;
  main.reason = tether::WaitReason::sleep;
  call.id = 6;
  call.name = "call:gl";
  call.reason = kind == td::ObjectKind::mutex ? tether::WaitReason::mutex_lock
                                              : tether::WaitReason::rwmutex_rlock;
  call.object_id = 2;
  call.is_call = true;  // parent 0: made by a plain thread
  call.locked_to = 100;
  g.fibers = {main, call};
  td::ObjectNode mu;
  mu.id = 2;
  mu.kind = kind;
  mu.name = "state";
  mu.state.holders = {kPlain};
  if (kind == td::ObjectKind::rwmutex) mu.state.writer = kPlain;
  mu.state.users = {kPlain, 6};
  mu.state.waiting = {{6, false}};
  g.objects = {mu};
  g.plain_threads = {plain_in_call_for_fiber6()};
  g.index();
  td::build_edges(g);
  return g;
}

}  // namespace

// A plain thread holding the mutex its own call needs: the call fiber waits
// for the mutex, the mutex for the plain thread, the plain thread for the
// call fiber. The held-by edge points at the plain thread's node.
TEST(DetectorModel, PlainThreadInCallHoldingTheLockItsCallNeeds) {
  const td::WaitGraph g = plain_holder_graph();
  const auto held = std::find_if(g.edges.begin(), g.edges.end(), [](const td::Edge& e) {
    return e.kind == td::EdgeKind::held_by;
  });
  ASSERT_NE(held, g.edges.end());
  EXPECT_EQ(held->from, "mutex:2");
  EXPECT_EQ(held->to, "plain:1");
  const td::DeadlockFinding f = td::find_deadlocks(g);
  EXPECT_EQ(f.deadlocked, (std::vector<std::uint64_t>{6}));
  EXPECT_FALSE(f.global);
  ASSERT_EQ(f.deadlocks.size(), 1u);
  const td::Deadlock& d = f.deadlocks[0];
  EXPECT_EQ(d.kind, "lock-cycle");
  EXPECT_EQ(d.nodes, (std::vector<std::string>{"fiber:6", "mutex:2", "plain:1", "fiber:6"}));
  EXPECT_EQ(d.explanation,
            "fiber 6 (mutex lock) can only be woken by thread 4242 (not a fiber) (holding mutex 2 "
            "\"state\", waiting in call() into thread \"gl\" for fiber 6 \"call:gl\"), which is "
            "blocked here too");
  const std::string text = td::describe_deadlock(g, d);
  EXPECT_NE(text.find("cycle: fiber 6 \"call:gl\" -> mutex 2 \"state\" -> thread 4242 (not a "
                      "fiber) -> fiber 6 \"call:gl\""),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("thread 4242 (not a fiber) [call] waits for fiber 6 \"call:gl\" in call() "
                      "into thread \"gl\""),
            std::string::npos)
      << text;

  // The same with an rwmutex the plain thread holds for writing.
  const td::DeadlockFinding r = td::find_deadlocks(plain_holder_graph(td::ObjectKind::rwmutex));
  EXPECT_EQ(r.deadlocked, (std::vector<std::uint64_t>{6}));
  ASSERT_EQ(r.deadlocks.size(), 1u);
  EXPECT_EQ(r.deadlocks[0].nodes,
            (std::vector<std::string>{"fiber:6", "rwmutex:2", "plain:1", "fiber:6"}));
}

// Near misses: the plain holder not in call() (running, or blocked outside
// the runtime), in call() for a fiber that has gone or still runs, and an
// unknown plain holder (0) can all release the lock.
TEST(DetectorModel, PlainThreadHoldingALockOutsideCallCanRelease) {
  td::WaitGraph g = plain_holder_graph();
  g.plain_threads.clear();
  g.edges.clear();
  g.index();
  td::build_edges(g);
  EXPECT_TRUE(std::none_of(g.edges.begin(), g.edges.end(),
                           [](const td::Edge& e) { return e.kind == td::EdgeKind::held_by; }));
  EXPECT_TRUE(find(g).deadlocked.empty());

  g = plain_holder_graph();
  g.plain_threads[0].call_fiber = 7;  // gone: it returns from call() next
  EXPECT_TRUE(find(g).deadlocked.empty());

  g = plain_holder_graph();
  td::FiberNode other;  // in call() for another fiber, which runs
  other.id = 7;
  other.reason = tether::WaitReason::running;
  other.is_call = true;
  g.fibers.push_back(other);
  g.plain_threads[0].call_fiber = 7;
  EXPECT_TRUE(find(g).deadlocked.empty());

  g = plain_holder_graph();
  g.objects[0].state.holders = {0};  // some plain thread, not told apart
  EXPECT_TRUE(find(g).deadlocked.empty());

  g = plain_holder_graph();
  g.objects[0].state.holders = {td::kPlainThreadTag | 2};  // another plain thread, not in call()
  EXPECT_TRUE(find(g).deadlocked.empty());
}

// The JSON keeps "holder" a fiber id (null) and names the plain thread in
// plain_holder / plain_writer / plain_readers; no plain:N edge.
TEST(DetectorModel, SnapshotJsonNamesPlainHolders) {
  td::WaitGraph g = plain_holder_graph();
  std::string json = td::to_json(g);
  EXPECT_NE(json.find("\"kind\":\"mutex\",\"name\":\"state\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"holder\":null,\"plain_holder\":1}"), std::string::npos) << json;
  EXPECT_EQ(json.find("\"plain:"), std::string::npos) << json;

  g = plain_holder_graph(td::ObjectKind::rwmutex);
  json = td::to_json(g);
  EXPECT_NE(json.find("\"writer\":null,\"readers\":[],\"plain_writer\":1}"), std::string::npos)
      << json;
  g.objects[0].state.writer = 0;
  g.objects[0].state.holders = {kPlain, 6};
  json = td::to_json(g);
  EXPECT_NE(json.find("\"writer\":null,\"readers\":[6],\"plain_readers\":[1]}"), std::string::npos)
      << json;
}

// ---- lock-order inversions (lock_order.h) ----

class LockOrder : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("TETHER_DETECT_MS", "0", 1);
    setenv("TETHER_LOCK_ORDER", "1", 1);
  }
  void TearDown() override {
    unsetenv("TETHER_DETECT_MS");
    unsetenv("TETHER_LOCK_ORDER");
  }
  static std::size_t inversions() { return tether::detail::lock_order_inversions(); }
  // Runs fn in a fiber of its own and waits for it.
  template <class F>
  static void in_fiber(F fn) {
    tether::go(std::move(fn)).join();
  }
};

TEST_F(LockOrder, ABThenBAIsReportedOnceWithoutHanging) {
  tether::run([] {
    const std::size_t before = inversions();
    tether::Mutex a("a"), b("b");
    in_fiber([&] {
      std::scoped_lock l(a);
      std::scoped_lock m(b);
    });
    EXPECT_EQ(inversions(), before);
    for (int i = 0; i < 3; ++i) {  // the same inversion again: one report
      in_fiber([&] {
        std::scoped_lock l(b);
        std::scoped_lock m(a);
      });
    }
    EXPECT_EQ(inversions(), before + 1);
  });
}

TEST_F(LockOrder, OneConsistentOrderIsSilent) {
  tether::run([] {
    const std::size_t before = inversions();
    tether::Mutex a("a"), b("b"), c("c");
    in_fiber([&] {
      std::scoped_lock l(a);
      std::scoped_lock m(b);
      std::scoped_lock n(c);
    });
    in_fiber([&] {
      std::scoped_lock l(a);
      std::scoped_lock n(c);
    });
    in_fiber([&] {
      std::scoped_lock m(b);
      std::scoped_lock n(c);
    });
    EXPECT_EQ(inversions(), before);
  });
}

TEST_F(LockOrder, ThreeLockCycleAcrossThreeFibers) {
  tether::run([] {
    const std::size_t before = inversions();
    tether::Mutex a("a"), b("b"), c("c");
    in_fiber([&] { std::scoped_lock l(a), m(b); });
    in_fiber([&] { std::scoped_lock l(b), m(c); });
    EXPECT_EQ(inversions(), before);
    in_fiber([&] { std::scoped_lock l(c), m(a); });  // c => a closes a => b => c
    EXPECT_EQ(inversions(), before + 1);
  });
}

TEST_F(LockOrder, ReadLocksOrderToo) {
  tether::run([] {
    const std::size_t before = inversions();
    tether::RWMutex config("config");
    tether::Mutex m("m");
    in_fiber([&] {
      config.rlock();
      m.lock();
      m.unlock();
      config.runlock();
    });
    in_fiber([&] {
      m.lock();
      config.lock();  // m => config (write), config (read) => m elsewhere
      config.unlock();
      m.unlock();
    });
    EXPECT_EQ(inversions(), before + 1);
  });
}

TEST_F(LockOrder, CallRunsUnderTheCallersLocks) {
  tether::run([] {
    const std::size_t before = inversions();
    tether::Mutex a("a"), b("b");
    auto gl = tether::ThreadLocker::make("gl");
    auto keep = gl.go([] { tether::sleep_for(200ms); });  // keeps gl alive
    in_fiber([&] {
      std::scoped_lock l(a);
      gl.call([&] { std::scoped_lock m(b); });  // a => b, through the call
    });
    EXPECT_EQ(inversions(), before);
    in_fiber([&] { std::scoped_lock m(b), l(a); });
    EXPECT_EQ(inversions(), before + 1);
    keep.join();
  });
}

TEST_F(LockOrder, UnlockedByAnotherFiberIsNoLongerHeld) {
  tether::run([] {
    const std::size_t before = inversions();
    tether::Mutex a("a"), b("b");
    tether::Chan<int> handed(0, "handed");
    auto x = tether::go([&] {
      a.lock();
      handed.send(1);  // y unlocks a for us (Go allows it)
      handed.recv();
      std::scoped_lock m(b);  // a is not held any more: no a => b
    });
    auto y = tether::go([&] {
      handed.recv();
      a.unlock();
      handed.send(2);
    });
    x.join();
    y.join();
    in_fiber([&] { std::scoped_lock m(b), l(a); });  // b => a: no inversion
    EXPECT_EQ(inversions(), before);
  });
}

TEST_F(LockOrder, ADestroyedLockForgetsItsOrder) {
  tether::run([] {
    const std::size_t before = inversions();
    tether::Mutex a("a");
    {
      tether::Mutex b("b");
      in_fiber([&] { std::scoped_lock l(a), m(b); });
    }
    tether::Mutex c("c");  // may even reuse b's address: ids differ
    in_fiber([&] { std::scoped_lock m(c), l(a); });
    EXPECT_EQ(inversions(), before);
  });
}

TEST_F(LockOrder, OffWithTetherLockOrder0) {
  setenv("TETHER_LOCK_ORDER", "0", 1);
  tether::run([] {
    const std::size_t before = inversions();
    tether::Mutex a("a"), b("b");
    in_fiber([&] { std::scoped_lock l(a), m(b); });
    in_fiber([&] { std::scoped_lock m(b), l(a); });
    EXPECT_EQ(inversions(), before);
  });
}
