// libtether_preload.so from fibers: a blocking interposed call is recorded
// as the fiber's "syscall" wait (name, descriptor) while it blocks and ends
// when it returns; results and errno stay the real call's; a call made inside
// tether::sys is recorded once, by tether::sys (its call site survives).
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "fiber_impl.h"
#include "fiber_registry.h"
#include "tether/fiber.h"
#include "tether/runtime.h"
#include "tether/sys.h"
#include "tether/thread_locker.h"
#include "tether/timer.h"

namespace {

using namespace std::chrono_literals;

struct Seen {
  std::string call;
  int fd = -1;
  unsigned line = 0;
};

// The syscall wait of the fiber named `name`, once it shows one (or nothing
// after a generous while: the test then fails on the missing value).
std::optional<Seen> wait_for_syscall(const std::string& name) {
  for (int i = 0; i < 20000; ++i) {
    std::optional<Seen> seen;
    tether::detail::FiberRegistry::instance().for_each([&](tether::detail::Fiber& f) {
      if (f.name != name) return;
      const auto w = f.wait.read();
      if (w.reason != tether::WaitReason::syscall) return;
      const char* call = f.syscall_name.load();
      seen = Seen{call ? call : "", f.syscall_fd.load(), w.site.line()};
    });
    if (seen) return seen;
    tether::sleep_for(1ms);
  }
  return std::nullopt;
}

TEST(FiberRecord, BlockingReadIsASyscallWait) {
  tether::run([] {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    ssize_t got = 0;
    char c = 0;
    tether::FiberRef reader = tether::go([&] { got = read(fds[0], &c, 1); }, {.name = "reader"});
    const std::optional<Seen> seen = wait_for_syscall("reader");
    ASSERT_TRUE(seen.has_value());
    EXPECT_EQ(seen->call, "read");
    EXPECT_EQ(seen->fd, fds[0]);
    EXPECT_EQ(seen->line, 0u);  // the library has no call site to give
    ASSERT_EQ(write(fds[1], "k", 1), 1);
    reader.join();
    EXPECT_EQ(got, 1);
    EXPECT_EQ(c, 'k');
    close(fds[0]);
    close(fds[1]);
  });
}

TEST(FiberRecord, ResultsAndErrnoAreTheRealCalls) {
  tether::run([] {
    int fds[2];
    ASSERT_EQ(pipe2(fds, O_NONBLOCK), 0);
    tether::ThreadLocker t = tether::ThreadLocker::make("io");
    t.go([&] {
       char c;
       errno = 0;
       EXPECT_EQ(read(fds[0], &c, 1), -1);
       EXPECT_EQ(errno, EAGAIN);
       EXPECT_EQ(write(fds[1], "ab", 2), 2);
       EXPECT_EQ(read(fds[0], &c, 1), 1);
       errno = 0;
       EXPECT_EQ(read(-1, &c, 1), -1);
       EXPECT_EQ(errno, EBADF);
       errno = 1234;  // a passing call leaves errno alone, as libc does
       EXPECT_EQ(read(fds[0], &c, 1), 1);
       EXPECT_EQ(errno, 1234);
     }).join();
    close(fds[0]);
    close(fds[1]);
  });
}

TEST(FiberRecord, TetherSysIsRecordedOnce) {
  tether::run([] {
    int fds[2];
    ASSERT_EQ(tether::sys::pipe(fds), 0);
    tether::FiberRef reader = tether::go(
        [&] {
          char c;
          tether::sys::read(fds[0], &c, 1);
        },
        {.name = "sys-reader"});
    const std::optional<Seen> seen = wait_for_syscall("sys-reader");
    ASSERT_TRUE(seen.has_value());
    EXPECT_EQ(seen->call, "read");
    EXPECT_NE(seen->line, 0u);  // tether::sys's site, not overwritten by the library
    ASSERT_EQ(tether::sys::write(fds[1], "k", 1), 1);
    reader.join();
    tether::sys::close(fds[0]);
    tether::sys::close(fds[1]);
  });
}

TEST(FiberRecord, OnlyAContendedMutexLockIsRecorded) {
  tether::run([] {
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    // Uncontended: no record (the lock is taken by trylock at once).
    tether::go([&] {
      EXPECT_EQ(pthread_mutex_lock(&m), 0);
      EXPECT_EQ(pthread_mutex_unlock(&m), 0);
    }).join();
    // Contended: held by the main fiber until the other is seen waiting.
    ASSERT_EQ(pthread_mutex_lock(&m), 0);
    tether::FiberRef locker = tether::go(
        [&] {
          EXPECT_EQ(pthread_mutex_lock(&m), 0);
          pthread_mutex_unlock(&m);
        },
        {.name = "locker"});
    const std::optional<Seen> seen = wait_for_syscall("locker");
    ASSERT_TRUE(seen.has_value());
    EXPECT_EQ(seen->call, "pthread_mutex_lock");
    EXPECT_EQ(seen->fd, -1);
    ASSERT_EQ(pthread_mutex_unlock(&m), 0);
    locker.join();
  });
}

}  // namespace
