// Lock-order tracking (lock_order.h) where the held locks live outside the
// graph's mutex: plain threads and their call()s, nesting deeper than the
// inline array, unlocks by another logical thread. (The basic cases are in
// deadlock_detector_test.cpp, LockOrder.*.)
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "deadlock_detector.h"
#include "lock_order.h"
#include "sync_test_util.h"
#include "tether/chan.h"
#include "tether/fiber.h"
#include "tether/mutex.h"
#include "tether/runtime.h"
#include "tether/thread_locker.h"
#include "tether/timer.h"
#include "wait_graph.h"

using namespace std::chrono_literals;

class LockOrderHeld : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("TETHER_DETECT_MS", "0", 1);  // no watchdog: the tests look themselves
    setenv("TETHER_LOCK_ORDER", "1", 1);
  }
  void TearDown() override {
    unsetenv("TETHER_DETECT_MS");
    unsetenv("TETHER_LOCK_ORDER");
  }
  static std::size_t inversions() { return tether::detail::lock_order_inversions(); }
  template <class F>
  static void in_fiber(F fn) {
    tether::go(std::move(fn)).join();
  }
};

// A plain thread holding "a" calls into a locker that takes "b": a => b, as
// for a fiber caller. (The call fiber's parent is 0 for a plain thread: it
// once ran with no context, and b => a elsewhere went unreported.)
TEST_F(LockOrderHeld, CallFromAPlainThreadRunsUnderItsLocks) {
  tether::run([] {
    const std::size_t before = inversions();
    tether::Mutex a("a"), b("b");
    auto gl = tether::ThreadLocker::make("gl");
    tether::Chan<int> stop(0, "stop");
    auto keep = gl.go([&] { stop.recv(); });  // keeps gl alive
    std::thread plain([&] {
      std::scoped_lock l(a);
      gl.call([&] { std::scoped_lock m(b); });
    });
    plain.join();
    EXPECT_EQ(inversions(), before);
    in_fiber([&] { std::scoped_lock m(b), l(a); });  // b => a closes a => b
    EXPECT_EQ(inversions(), before + 1);
    stop.send(1);
    keep.join();
  });
}

// The mirror near miss: the plain thread holds "m", which the locker's fiber
// waits for, and calls into that locker a function that does not need it.
// The waiting fiber parks and frees the thread, the call runs, then the
// plain thread unlocks. No inversion, and no deadlock while the call runs.
TEST_F(LockOrderHeld, PlainThreadHoldsWhatTheLockersFiberWaitsFor) {
  tether::run([] {
    const std::size_t before = inversions();
    tether::Mutex m("m");
    auto gl = tether::ThreadLocker::make("gl");
    m.lock();  // handed to the plain thread below (Go lets any holder unlock)
    std::uint64_t waiter_id = 0;
    auto waiter = gl.go([&] {
      waiter_id = tether::this_fiber::id();
      std::scoped_lock l(m);
    });
    std::size_t deadlocked = 99;
    std::thread plain([&] {
      EXPECT_TRUE(tether_test::eventually([&] {
        auto w = tether_test::wait_state_of(waiter.id());
        return w && w->reason == tether::WaitReason::mutex_lock;
      }));
      int v = gl.call([&] {
        auto g = tether::detail::take_snapshot();
        deadlocked = tether::detail::find_deadlocks(g).deadlocked.size();
        return 3;
      });
      EXPECT_EQ(v, 3);
      m.unlock();
    });
    plain.join();
    waiter.join();
    EXPECT_NE(waiter_id, 0u);
    EXPECT_EQ(deadlocked, 0u);
    EXPECT_EQ(inversions(), before);
  });
}

// Deeper than the inline array: every lock is released again from the
// chunks (a lock left marked held would order itself before later locks).
TEST_F(LockOrderHeld, DeepNestingIsReleasedFully) {
  tether::run([] {
    const std::size_t before = inversions();
    std::vector<std::unique_ptr<tether::Mutex>> l;
    for (int i = 0; i < 45; ++i) l.push_back(std::make_unique<tether::Mutex>());
    tether::Mutex c("c");
    in_fiber([&] {
      for (auto& m : l) m->lock();
      for (auto it = l.rbegin(); it != l.rend(); ++it) (*it)->unlock();
      std::scoped_lock k(c);  // no l[i] => c: none is held any more
    });
    in_fiber([&] {
      for (auto it = l.begin() + 10; it != l.end(); ++it) (*it)->lock();    // the same order
      for (auto it = l.begin() + 10; it != l.end(); ++it) (*it)->unlock();  // any order
    });
    in_fiber([&] { std::scoped_lock k(c), m(*l[40]); });  // c => l[40]: no cycle
    EXPECT_EQ(inversions(), before);
    in_fiber(
        [&] { std::scoped_lock m(*l[44]), k(*l[3]); });  // l[44] => l[3] closes l[3] => ... l[44]
    EXPECT_EQ(inversions(), before + 1);
  });
}

// Unlocks across logical threads: a plain thread unlocks a fiber's lock, a
// fiber unlocks a plain thread's. Neither lock stays held by its taker.
TEST_F(LockOrderHeld, UnlockedAcrossPlainThreadsAndFibers) {
  tether::run([] {
    const std::size_t before = inversions();
    tether::Mutex a("a"), b("b"), c("c");
    tether::Chan<int> step(0, "step");
    auto x = tether::go([&] {
      a.lock();
      step.send(1);  // the plain thread unlocks a
      step.recv();
      std::scoped_lock m(b);  // a is not held: no a => b
    });
    std::thread plain([&] {
      step.recv();
      a.unlock();
      c.lock();  // a fiber unlocks it below
      step.send(2);
      step.recv();
      std::scoped_lock m(b);  // c is not held: no c => b
    });
    x.join();
    in_fiber([&] {
      c.unlock();
      step.send(3);
    });
    plain.join();
    in_fiber([&] { std::scoped_lock m(b), l(a); });  // b => a: no inversion
    in_fiber([&] { std::scoped_lock m(b), l(c); });  // b => c: no inversion
    EXPECT_EQ(inversions(), before);
  });
}

// Many fibers on the pool take the same two locks in one order (the
// tracker's caches are per OS thread and per held entry): silent; then one
// inversion, reported once however many fibers repeat it.
TEST_F(LockOrderHeld, ManyFibersOneOrderThenOneInversion) {
  tether::run([] {
    const std::size_t before = inversions();
    tether::Mutex a("a"), b("b");
    std::vector<tether::FiberRef> fs;
    for (int i = 0; i < 50; ++i) {
      fs.push_back(tether::go([&] {
        for (int k = 0; k < 20; ++k) {
          std::scoped_lock l(a), m(b);
          tether::this_fiber::yield();
        }
      }));
    }
    for (auto& f : fs) f.join();
    EXPECT_EQ(inversions(), before);
    fs.clear();
    for (int i = 0; i < 10; ++i) {
      fs.push_back(tether::go([&] { std::scoped_lock m(b), l(a); }));
      fs.back().join();  // one at a time: the inversion must not hang
    }
    EXPECT_EQ(inversions(), before + 1);
  });
}

// A real deadlock through a plain thread's call(): "holder", on gl, holds
// "state" and waits on "sig" for the plain thread's go-ahead; the plain
// thread first calls into gl a function that needs "state". The call fiber
// waits for holder, holder for the plain thread, the plain thread for the
// call. "sig" has a plain thread among its users, but that thread is blocked
// in call() for a fiber of the deadlocked set: it cannot send, and the
// report says so. (The near misses: PlainThreadSendsBeforeItsCall below, and
// with the plain thread holding the lock instead,
// PlainThreadHoldsWhatTheLockersFiberWaitsFor.)
TEST_F(LockOrderHeld, PlainThreadCallIntoTheHolderIsADeadlock) {
  tether::run([] {
    auto gl = tether::ThreadLocker::make("gl");
    tether::Mutex state("state");
    std::optional<tether::Chan<int>> sig;
    tether::FiberRef holder;
    std::thread plain;
    // A setup fiber makes the channel and ends: this test fiber, which
    // breaks the cycle afterwards, has not used it while the check runs.
    tether::go([&] {
      tether::Chan<int> c(0, "sig");  // unbuffered: holder cannot take its own 1
      sig = c;
      holder = gl.go(
          [&state, c]() mutable {
            state.lock();
            c.send(1);  // the plain thread knows "state" is held
            c.recv();   // waits for the go-ahead
            state.unlock();
          },
          {.name = "holder"});
      plain = std::thread([&gl, &state, c]() mutable {
        c.recv();
        gl.call([&] { std::scoped_lock l(state); });
        c.send(2);  // the go-ahead, only after the call
      });
    }).join();
    tether::detail::DeadlockFinding f;
    tether::detail::WaitGraph g;
    for (int i = 0; i < 200 && f.deadlocked.empty(); ++i) {
      tether::sleep_for(10ms);
      g = tether::detail::take_snapshot();
      f = tether::detail::find_deadlocks(g);
    }
    ASSERT_EQ(f.deadlocked.size(), 2u);  // holder and the call fiber
    EXPECT_TRUE(std::binary_search(f.deadlocked.begin(), f.deadlocked.end(), holder.id()));
    ASSERT_EQ(f.deadlocks.size(), 1u);
    const tether::detail::Deadlock& d = f.deadlocks[0];
    EXPECT_EQ(d.kind, "channel-cycle");
    ASSERT_EQ(g.plain_threads.size(), 1u);
    const auto& p = g.plain_threads[0];
    const std::string pn = tether::detail::plain_node_id(p.id);
    EXPECT_NE(std::find(d.nodes.begin(), d.nodes.end(), pn), d.nodes.end());
    EXPECT_TRUE(std::binary_search(f.deadlocked.begin(), f.deadlocked.end(), p.call_fiber));
    const std::string text = tether::detail::describe_deadlock(g, d);
    std::printf("%s\n", text.c_str());
    EXPECT_NE(d.explanation.find("(waiting in call() into thread \"gl\" for fiber " +
                                 std::to_string(p.call_fiber)),
              std::string::npos)
        << d.explanation;
    EXPECT_NE(text.find(p.name + " (not a fiber) [call] waits for fiber " +
                        std::to_string(p.call_fiber)),
              std::string::npos)
        << text;
    // The snapshot lists the plain thread (docs/snapshot-format.md).
    EXPECT_NE(tether::detail::to_json(g).find("\"state\":\"call\",\"waits_for\":\"fiber:" +
                                              std::to_string(p.call_fiber) + "\""),
              std::string::npos);
    sig->send(3);  // break it: holder unlocks, the call completes
    holder.join();
    EXPECT_EQ(sig->recv(), 2);  // the plain thread's go-ahead, after its call
    plain.join();
  });
}

// The near miss of the same shape: the plain thread sends the go-ahead
// before its call. While the call waits for "state", holder is runnable or
// done: nothing is deadlocked at any moment.
TEST_F(LockOrderHeld, PlainThreadSendsBeforeItsCall) {
  tether::run([] {
    auto gl = tether::ThreadLocker::make("gl");
    tether::Mutex state("state");
    tether::Chan<int> sig(0, "sig");
    std::size_t deadlocked = 0;
    tether::Chan<int> stop(0, "stop");
    auto keep = gl.go([&] { stop.recv(); });  // keeps gl alive for the call
    auto holder = gl.go(
        [&] {
          state.lock();
          sig.send(1);
          sig.recv();  // the go-ahead
          state.unlock();
        },
        {.name = "holder"});
    std::thread plain([&] {
      sig.recv();
      sig.send(2);  // the go-ahead first
      gl.call([&] { std::scoped_lock l(state); });
    });
    for (int i = 0; i < 200 && !holder.done(); ++i) {
      auto g = tether::detail::take_snapshot();
      deadlocked += tether::detail::find_deadlocks(g).deadlocked.size();
      tether::sleep_for(1ms);
    }
    plain.join();
    holder.join();
    stop.send(1);
    keep.join();
    EXPECT_EQ(deadlocked, 0u);
  });
}

// The near miss the rule must keep silent: exactly the deadlock's state (the
// plain thread blocked in call() for a fiber that waits for holder, holder
// waiting on "sig"), but a second plain thread that used "sig" and is not in
// call() (it waits outside the runtime) sends the go-ahead later. It may act:
// nothing is reported, however long the detector looks.
TEST_F(LockOrderHeld, AnotherPlainThreadOutsideCallCanStillSend) {
  tether::run([] {
    auto gl = tether::ThreadLocker::make("gl");
    tether::Mutex state("state");
    std::atomic<bool> go_ahead{false};
    tether::FiberRef holder;
    std::thread other, plain;
    // As in the deadlock: a setup fiber makes "sig" and ends, so that only
    // the plain threads and holder are its users while the check runs.
    tether::go([&] {
      tether::Chan<int> sig(0, "sig");
      std::promise<void> used;
      other = std::thread([&go_ahead, sig, &used]() mutable {
        (void)sig.try_recv();  // nothing there: but a known user now
        used.set_value();
        while (!go_ahead.load()) std::this_thread::sleep_for(1ms);  // not in call()
        sig.send(2);
      });
      used.get_future().wait();
      holder = gl.go(
          [&state, sig]() mutable {
            state.lock();
            sig.send(1);
            sig.recv();  // the go-ahead, from "other"
            state.unlock();
          },
          {.name = "holder"});
      plain = std::thread([&gl, &state, sig]() mutable {
        sig.recv();
        gl.call([&] { std::scoped_lock l(state); });
      });
    }).join();
    // Wait for the deadlock's shape: the plain thread in call(), its call
    // fiber queued on "state", holder receiving.
    bool shaped = false;
    std::size_t deadlocked = 0, looks = 0;
    for (int i = 0; i < 500 && looks < 20; ++i) {
      auto g = tether::detail::take_snapshot();
      if (!shaped && g.plain_threads.size() == 1) {
        const auto* c = g.fiber(g.plain_threads[0].call_fiber);
        const auto* h = g.fiber(holder.id());
        shaped = c && h && c->reason == tether::WaitReason::mutex_lock &&
                 h->reason == tether::WaitReason::chan_receive;
      }
      if (shaped) {
        ++looks;
        deadlocked += tether::detail::find_deadlocks(g).deadlocked.size();
      }
      tether::sleep_for(5ms);
    }
    EXPECT_TRUE(shaped);
    EXPECT_EQ(deadlocked, 0u);
    go_ahead = true;
    other.join();
    plain.join();
    holder.join();
  });
}
