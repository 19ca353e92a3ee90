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
#include <shared_mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "deadlock_detector.h"
#include "lock_order.h"
#include "mutex.h"
#include "rw_mutex.h"
#include "sync_test_util.h"
#include "tether/chan.h"
#include "tether/fiber.h"
#include "tether/mutex.h"
#include "tether/runtime.h"
#include "tether/rw_mutex.h"
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

// Looks until the detector reports something (up to ~2 s); returns the
// finding and the graph it came from.
static std::pair<tether::detail::DeadlockFinding, tether::detail::WaitGraph> look_for_deadlock() {
  tether::detail::DeadlockFinding f;
  tether::detail::WaitGraph g;
  for (int i = 0; i < 200 && f.deadlocked.empty(); ++i) {
    tether::sleep_for(10ms);
    g = tether::detail::take_snapshot();
    f = tether::detail::find_deadlocks(g);
  }
  return {std::move(f), std::move(g)};
}

// A plain thread locks "state", then calls into gl a function that locks it
// too: the call fiber waits for "state", held by the plain thread, which
// waits in call() for the call fiber. The holder is recorded as the plain
// thread (not as "some plain thread", which could always release it), so the
// cycle call fiber -> mutex -> plain thread -> call fiber is reported. (Near
// misses: PlainThreadHoldingALockOutsideCallCanRelease below, and
// PlainThreadHoldsWhatTheLockersFiberWaitsFor, whose call does not need it.)
TEST_F(LockOrderHeld, PlainThreadHoldingTheLockItsCallNeedsIsADeadlock) {
  tether::run([] {
    auto gl = tether::ThreadLocker::make("gl");
    tether::Mutex state("state");
    tether::Chan<int> stop(0, "stop");
    auto keep = gl.go([&] { stop.recv(); });  // keeps gl alive for the call
    std::thread plain([&] {
      state.lock();
      gl.call([&] { std::scoped_lock l(state); });
      // The test unlocked "state" on this thread's behalf (Go allows it) to
      // end the deadlock; the call took it and gave it back.
    });
    auto [f, g] = look_for_deadlock();
    EXPECT_TRUE(tether::detail::is_plain_thread_id(state.core()->holder()));
    EXPECT_EQ(state.holder(), 0u);  // the API still speaks of fibers only
    EXPECT_EQ(f.deadlocked.size(), 1u);  // the call fiber
    EXPECT_FALSE(f.global);
    if (f.deadlocks.size() == 1 && g.plain_threads.size() == 1) {
      const tether::detail::Deadlock& d = f.deadlocks[0];
      const auto& p = g.plain_threads[0];
      EXPECT_EQ(p.id, state.core()->holder());
      EXPECT_EQ(f.deadlocked, std::vector<std::uint64_t>{p.call_fiber});
      const std::string cf = tether::detail::node_id("fiber", p.call_fiber);
      const std::string mn = tether::detail::node_id("mutex", state.id());
      EXPECT_EQ(d.kind, "lock-cycle");
      EXPECT_EQ(d.nodes, (std::vector<std::string>{cf, mn, tether::detail::plain_node_id(p.id), cf}));
      const std::string text = tether::detail::describe_deadlock(g, d);
      std::printf("%s\n", text.c_str());
      EXPECT_NE(d.explanation.find(p.name + " (not a fiber) (holding mutex " +
                                   std::to_string(state.id()) +
                                   " \"state\", waiting in call() into thread \"gl\" for fiber " +
                                   std::to_string(p.call_fiber)),
                std::string::npos)
          << d.explanation;
      EXPECT_NE(text.find(p.name + " (not a fiber) [call] waits for fiber " +
                          std::to_string(p.call_fiber)),
                std::string::npos)
          << text;
    } else {
      ADD_FAILURE() << "deadlocks: " << f.deadlocks.size()
                    << ", plain threads in call(): " << g.plain_threads.size();
    }
    // Break it: hand "state" to the call fiber once it waits (never unlock
    // before the plain thread has it: that would be a misuse).
    EXPECT_TRUE(tether_test::eventually([&] { return state.core()->waiter_count() == 1; }));
    state.unlock();
    plain.join();
    EXPECT_FALSE(state.locked());
    stop.send(1);
    keep.join();
  });
}

// The near miss: the same state (a fiber on gl waits for "state", held by a
// plain thread), but the plain thread is not in call(): it waits outside the
// runtime and will unlock. Nothing is reported, however long the detector
// looks.
TEST_F(LockOrderHeld, PlainThreadHoldingALockOutsideCallCanRelease) {
  tether::run([] {
    auto gl = tether::ThreadLocker::make("gl");
    tether::Mutex state("state");
    std::atomic<bool> locked{false}, go_ahead{false};
    std::thread plain([&] {
      state.lock();
      locked = true;
      while (!go_ahead.load()) std::this_thread::sleep_for(1ms);  // not in call()
      state.unlock();
    });
    ASSERT_TRUE(tether_test::eventually([&] { return locked.load(); }));
    auto waiter = gl.go([&] { std::scoped_lock l(state); }, {.name = "waiter"});
    bool shaped = false;
    std::size_t deadlocked = 0, looks = 0;
    for (int i = 0; i < 500 && looks < 20; ++i) {
      auto g = tether::detail::take_snapshot();
      if (!shaped) {
        const auto* w = g.fiber(waiter.id());
        const auto* m = g.object(state.id());
        shaped = w && m && w->reason == tether::WaitReason::mutex_lock &&
                 m->state.holders.size() == 1 &&
                 tether::detail::is_plain_thread_id(m->state.holders[0]);
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
    plain.join();
    waiter.join();
  });
}

// The RWMutex form: a plain thread holding the write lock calls into gl a
// function that read-locks it. Reported as the mutex form is.
TEST_F(LockOrderHeld, PlainThreadWriterWhoseCallReadsIsADeadlock) {
  tether::run([] {
    auto gl = tether::ThreadLocker::make("gl");
    tether::RWMutex config("config");
    tether::Chan<int> stop(0, "stop");
    auto keep = gl.go([&] { stop.recv(); });  // keeps gl alive for the call
    std::thread plain([&] {
      config.lock();
      gl.call([&] { std::shared_lock r(config); });
    });
    auto [f, g] = look_for_deadlock();
    EXPECT_EQ(config.writer(), 0u);  // the API still speaks of fibers only
    ASSERT_EQ(g.plain_threads.size(), 1u);
    const auto& p = g.plain_threads[0];
    EXPECT_EQ(f.deadlocked, std::vector<std::uint64_t>{p.call_fiber});
    if (f.deadlocks.size() == 1) {
      const std::string cf = tether::detail::node_id("fiber", p.call_fiber);
      EXPECT_EQ(f.deadlocks[0].kind, "lock-cycle");
      EXPECT_EQ(f.deadlocks[0].nodes,
                (std::vector<std::string>{cf, tether::detail::node_id("rwmutex", config.id()),
                                          tether::detail::plain_node_id(p.id), cf}));
    } else {
      ADD_FAILURE() << "deadlocks: " << f.deadlocks.size();
    }
    // Break it: the writer's unlock admits the call's reader.
    EXPECT_TRUE(tether_test::eventually([&] { return config.core()->waiting_readers() == 1; }));
    config.unlock();
    plain.join();
    stop.send(1);
    keep.join();
  });
}

// Its near miss: the plain thread holds a read lock and its call reads too
// (readers share: no writer waits). The call completes; while it runs the
// plain reader is recorded by its own id and nothing is deadlocked.
TEST_F(LockOrderHeld, PlainThreadReaderWhoseCallReadsCompletes) {
  tether::run([] {
    auto gl = tether::ThreadLocker::make("gl");
    tether::RWMutex config("config");
    tether::Chan<int> stop(0, "stop");
    auto keep = gl.go([&] { stop.recv(); });
    std::size_t deadlocked = 99;
    bool plain_reader = false;
    std::thread plain([&] {
      std::shared_lock r(config);
      EXPECT_TRUE(config.readers().empty());  // fiber ids only
      gl.call([&] {
        std::shared_lock r2(config);
        auto g = tether::detail::take_snapshot();
        deadlocked = tether::detail::find_deadlocks(g).deadlocked.size();
        if (const auto* o = g.object(config.id()))
          plain_reader = std::any_of(o->state.holders.begin(), o->state.holders.end(),
                                     [](std::uint64_t h) { return tether::detail::is_plain_thread_id(h); });
      });
    });
    plain.join();
    EXPECT_EQ(deadlocked, 0u);
    EXPECT_TRUE(plain_reader);
    EXPECT_EQ(config.reader_count(), 0u);
    stop.send(1);
    keep.join();
  });
}
