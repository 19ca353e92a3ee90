// ThreadLocker: N:1 locking, call(), lock_os_thread, misuse.
#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "tether/chan.h"
#include "tether/errors.h"
#include "tether/fiber.h"
#include "tether/runtime.h"
#include "tether/sys.h"
#include "tether/thread_locker.h"
#include "tether/timer.h"

using namespace std::chrono_literals;

namespace {
int gettid_() { return static_cast<int>(syscall(SYS_gettid)); }
}  // namespace

TEST(ThreadLocker, FibersOfALockerShareOneThreadAndNoOtherFiberRunsThere) {
  std::mutex mu;
  std::set<int> locked_tids;
  std::set<int> pool_tids;
  int locker_tid = 0;
  tether::run([&] {
    auto gl = tether::ThreadLocker::make("gl");
    std::vector<tether::FiberRef> fs;
    // The locked fibers are started from a fiber locked there too: a locker
    // finishes when its last member leaves, so a member must exist throughout.
    tether::FiberRef spawner = gl.go([&] {
      for (int i = 0; i < 8; ++i) {
        fs.push_back(gl.go([&] {
          for (int k = 0; k < 50; ++k) {
            {
              std::lock_guard lk(mu);
              locked_tids.insert(gettid_());
            }
            tether::this_fiber::yield();
          }
        }));
      }
    });
    spawner.join();
    for (int i = 0; i < 16; ++i) {
      fs.push_back(tether::go([&] {
        for (int k = 0; k < 50; ++k) {
          {
            std::lock_guard lk(mu);
            pool_tids.insert(gettid_());
          }
          tether::this_fiber::yield();
        }
      }));
    }
    for (auto& f : fs) f.join();
    locker_tid = gl.tid();
    EXPECT_TRUE(gl.finished());  // its last fiber left
  });
  ASSERT_EQ(locked_tids.size(), 1u);
  EXPECT_EQ(*locked_tids.begin(), locker_tid);
  EXPECT_EQ(pool_tids.count(locker_tid), 0u);
  EXPECT_EQ(pool_tids.count(gettid_()), 0u);  // nor on the main thread
}

TEST(ThreadLocker, LockMovesTheFiberThereAndUnlockMovesItBack) {
  tether::run([] {
    auto t = tether::ThreadLocker::make("worker");
    // Keeps the thread alive until the test is done (not a sleep: on a loaded
    // machine the other fiber may reach lock() after any fixed time).
    tether::Chan<int> done(0);
    auto keep = t.go([&] { done.recv(); });
    tether::go([&] {
      t.lock();
      EXPECT_EQ(gettid_(), t.tid());
      tether::this_fiber::yield();
      EXPECT_EQ(gettid_(), t.tid());
      t.unlock();
      EXPECT_NE(gettid_(), t.tid());
      done.close();
    }).join();
    keep.join();
  });
}

TEST(ThreadLocker, FiberOneStartsOnTheMainThread) {
  const int main_tid = gettid_();
  tether::run([&] {
    EXPECT_EQ(gettid_(), main_tid);
    EXPECT_EQ(tether::ThreadLocker::main().tid(), main_tid);
    auto v = tether::ThreadLocker::main().call([] { return gettid_(); });
    EXPECT_EQ(v, main_tid);
    tether::ThreadLocker::main().unlock();
    EXPECT_NE(gettid_(), main_tid);
    int from_pool = tether::ThreadLocker::main().call([] { return gettid_(); });
    EXPECT_EQ(from_pool, main_tid);
  });
}

TEST(ThreadLocker, CallFromEightPlainThreadsAtOnce) {
  tether::run([] {
    auto gui = tether::ThreadLocker::make("gui");
    std::atomic<int> wrong_thread{0};
    long counter = 0;  // touched only on gui's thread: no lock needed
    std::vector<std::thread> ts;
    for (int i = 0; i < 8; ++i) {
      ts.emplace_back([&] {
        for (int k = 0; k < 200; ++k) {
          gui.call([&] {
            if (gettid_() != gui.tid()) wrong_thread++;
            ++counter;
          });
        }
      });
    }
    for (auto& t : ts) t.join();
    EXPECT_EQ(counter, 8 * 200);
    EXPECT_EQ(wrong_thread.load(), 0);
    EXPECT_FALSE(gui.finished());  // call() fibers are not members
  });
}

TEST(ThreadLocker, CallReturnsValuesAndRethrows) {
  tether::run([] {
    auto t = tether::ThreadLocker::make("t");
    EXPECT_EQ(t.call([] { return std::string("on t"); }), "on t");
    EXPECT_THROW(t.call([]() -> int { throw std::runtime_error("x"); }), std::runtime_error);
    auto ptr = t.call([] { return std::make_unique<int>(5); });  // move-only result
    EXPECT_EQ(*ptr, 5);
  });
}

TEST(ThreadLockerMisuse, LockWhileLocked) {
  tether::run([] {
    auto a = tether::ThreadLocker::make("a");
    auto b = tether::ThreadLocker::make("b");
    tether::go([&] {
      a.lock();
      int line = 0;
      try {
        line = __LINE__, b.lock();
        ADD_FAILURE() << "no misuse_error";
      } catch (const tether::misuse_error& e) {
        EXPECT_NE(std::string(e.what()).find("already locked to thread \"a\""), std::string::npos)
            << e.what();
        EXPECT_EQ(e.thread(), "a");
        EXPECT_GT(e.fiber_id(), 0u);
        EXPECT_EQ(e.site().line(), static_cast<unsigned>(line));
      }
      a.unlock();
    }).join();
  });
}

TEST(ThreadLockerMisuse, UnlockWhenNotLocked) {
  tether::run([] {
    auto a = tether::ThreadLocker::make("a");
    tether::go([&] { EXPECT_THROW(a.unlock(), tether::misuse_error); }).join();
  });
}

TEST(ThreadLockerMisuse, UnlockOfAnotherLocker) {
  tether::run([] {
    auto a = tether::ThreadLocker::make("a");
    auto b = tether::ThreadLocker::make("b");
    b.go([&] { EXPECT_THROW(a.unlock(), tether::misuse_error); }).join();
  });
}

TEST(ThreadLockerMisuse, FinishedLocker) {
  tether::run([] {
    auto a = tether::ThreadLocker::make("a");
    a.go([] {}).join();
    for (int i = 0; i < 1000 && !a.finished(); ++i) tether::sleep_for(1ms);
    ASSERT_TRUE(a.finished());
    EXPECT_THROW(a.go([] {}), tether::misuse_error);
    EXPECT_THROW(a.call([] {}), tether::misuse_error);
    tether::go([&] { EXPECT_THROW(a.lock(), tether::misuse_error); }).join();
  });
}

TEST(ThreadLockerMisuse, CallFromTheLockersOwnThreadInsideAFiberRunsInline) {
  tether::run([] {
    auto a = tether::ThreadLocker::make("a");
    a.go([&] {
      const int tid = gettid_();
      EXPECT_EQ(a.call([] { return gettid_(); }), tid);
    }).join();
  });
}

TEST(LockOSThread, GivesTheFiberAThreadOfItsOwn) {
  tether::run([] {
    std::atomic<int> tid{0};
    std::atomic<bool> shared{false};
    auto f = tether::go([&] {
      tether::lock_os_thread();
      tether::lock_os_thread();  // nests
      tid = gettid_();
      for (int i = 0; i < 20; ++i) {
        tether::this_fiber::yield();
        if (gettid_() != tid) shared = true;
      }
      tether::unlock_os_thread();
      EXPECT_EQ(gettid_(), tid.load());
      tether::unlock_os_thread();
      EXPECT_NE(gettid_(), tid.load());
      EXPECT_THROW(tether::unlock_os_thread(), tether::misuse_error);
    });
    std::vector<tether::FiberRef> others;
    for (int i = 0; i < 8; ++i) {
      others.push_back(tether::go([&] {
        for (int k = 0; k < 20; ++k) {
          if (tid.load() != 0 && gettid_() == tid.load()) shared = true;
          tether::this_fiber::yield();
        }
      }));
    }
    f.join();
    for (auto& o : others) o.join();
    EXPECT_FALSE(shared.load());
  });
}

TEST(Syscall, BlockingCallOnAPoolFiberDoesNotStallThePool) {
  setenv("TETHER_PROCS", "1", 1);
  tether::run([] {
    int fds[2];
    ASSERT_EQ(tether::sys::pipe(fds), 0);
    EXPECT_EQ(tether::sys::peer_fd(fds[0]), fds[1]);
    // The reader blocks its pool thread in read(); the only other pool fiber
    // must still run (another thread takes over) and it is the one that writes.
    auto reader = tether::go([&] {
      char c = 0;
      EXPECT_EQ(tether::sys::read(fds[0], &c, 1), 1);
      EXPECT_EQ(c, 'x');
    });
    tether::sleep_for(5ms);  // let the reader block first
    auto writer = tether::go([&] {
      int spins = 0;
      for (; spins < 10; ++spins) tether::this_fiber::yield();
      EXPECT_EQ(tether::sys::write(fds[1], "x", 1), 1);
    });
    writer.join();
    reader.join();
    tether::sys::close(fds[0]);
    tether::sys::close(fds[1]);
    EXPECT_EQ(tether::sys::peer_fd(fds[0]), -1);
  });
  unsetenv("TETHER_PROCS");
}

TEST(Syscall, WrappersPassErrnoThrough) {
  tether::run([] {
    tether::go([] {
      char c;
      errno = 0;
      EXPECT_EQ(tether::sys::read(-1, &c, 1), -1);
      EXPECT_EQ(errno, EBADF);
      EXPECT_EQ(tether::sys::close(-1), -1);
      EXPECT_EQ(errno, EBADF);
    }).join();
  });
}
