// libtether_preload.so on plain threads: with the runtime's hooks registered,
// every interposed call must behave exactly as libc's own (return values,
// errno, EINTR with and without SA_RESTART, EAGAIN on non-blocking
// descriptors). The test program links the library, so the calls below go
// through it (checked first).
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/futex.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#include <gtest/gtest.h>

#include "preload_bridge.h"

namespace {

class Passthrough : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_TRUE(tether::detail::register_preload_hooks()); }
};

// The program's read is the library's, not libc's: otherwise nothing here
// tests the library.
TEST_F(Passthrough, CallsGoThroughTheLibrary) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "the sanitizer's interceptors come first (and forward to the library)";
#endif
  void* lib = dlopen("libtether_preload.so", RTLD_NOLOAD | RTLD_NOW);
  ASSERT_NE(lib, nullptr) << dlerror();
  for (const char* name : {"read", "write", "poll", "pthread_mutex_lock", "syscall", "close"}) {
    EXPECT_EQ(dlsym(RTLD_DEFAULT, name), dlsym(lib, name)) << name;
  }
  dlclose(lib);
}

TEST_F(Passthrough, ReadWriteReturnValuesAndErrno) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  EXPECT_EQ(write(fds[1], "abc", 3), 3);
  char buf[8] = {};
  EXPECT_EQ(read(fds[0], buf, sizeof buf), 3);
  EXPECT_STREQ(buf, "abc");
  iovec out[2] = {{const_cast<char*>("de"), 2}, {const_cast<char*>("f"), 1}};
  EXPECT_EQ(writev(fds[1], out, 2), 3);
  char a[2], b[1];
  iovec in[2] = {{a, 2}, {b, 1}};
  EXPECT_EQ(readv(fds[0], in, 2), 3);
  EXPECT_EQ(b[0], 'f');
  errno = 0;
  EXPECT_EQ(read(-1, buf, 1), -1);
  EXPECT_EQ(errno, EBADF);
  errno = 0;
  EXPECT_EQ(write(fds[0], "x", 1), -1);  // the read end
  EXPECT_EQ(errno, EBADF);
  EXPECT_EQ(close(fds[0]), 0);
  EXPECT_EQ(close(fds[1]), 0);
  errno = 0;
  EXPECT_EQ(close(fds[1]), -1);
  EXPECT_EQ(errno, EBADF);
}

TEST_F(Passthrough, NonBlockingDescriptorsReturnEagain) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_NONBLOCK), 0);
  char c;
  errno = 0;
  EXPECT_EQ(read(fds[0], &c, 1), -1);
  EXPECT_EQ(errno, EAGAIN);
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
  errno = 0;
  EXPECT_EQ(recv(sv[0], &c, 1, 0), -1);
  EXPECT_EQ(errno, EAGAIN);
  errno = 0;
  EXPECT_EQ(recvfrom(sv[0], &c, 1, 0, nullptr, nullptr), -1);
  EXPECT_EQ(errno, EAGAIN);
  EXPECT_EQ(send(sv[1], "q", 1, 0), 1);
  EXPECT_EQ(recv(sv[0], &c, 1, MSG_DONTWAIT), 1);
  EXPECT_EQ(c, 'q');
  EXPECT_EQ(sendto(sv[1], "r", 1, 0, nullptr, 0), 1);
  msghdr mh = {};
  iovec iov = {&c, 1};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  EXPECT_EQ(recvmsg(sv[0], &mh, 0), 1);
  EXPECT_EQ(c, 'r');
  iov.iov_base = const_cast<char*>("s");
  EXPECT_EQ(sendmsg(sv[1], &mh, 0), 1);
  // A listening socket with nobody connecting.
  const int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s/tether-preload-%d.sock",
                std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp", getpid());
  unlink(addr.sun_path);
  ASSERT_EQ(bind(ls, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(ls, 1), 0);
  errno = 0;
  EXPECT_EQ(accept(ls, nullptr, nullptr), -1);
  EXPECT_EQ(errno, EAGAIN);
  errno = 0;
  EXPECT_EQ(accept4(ls, nullptr, nullptr, SOCK_CLOEXEC), -1);
  EXPECT_EQ(errno, EAGAIN);
  const int cs = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un missing = addr;
  std::strcat(missing.sun_path, ".missing");
  errno = 0;
  EXPECT_EQ(connect(cs, reinterpret_cast<sockaddr*>(&missing), sizeof missing), -1);
  EXPECT_EQ(errno, ENOENT);
  EXPECT_EQ(connect(cs, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const int as = accept4(ls, nullptr, nullptr, SOCK_CLOEXEC);
  EXPECT_GE(as, 0);
  unlink(addr.sun_path);
  for (int fd : {fds[0], fds[1], sv[0], sv[1], ls, cs, as}) close(fd);
}

TEST_F(Passthrough, WaitingCallsWithoutWaiting) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pollfd p = {fds[0], POLLIN, 0};
  EXPECT_EQ(poll(&p, 1, 0), 0);
  EXPECT_EQ(write(fds[1], "x", 1), 1);
  EXPECT_EQ(poll(&p, 1, 1000), 1);
  EXPECT_EQ(p.revents, POLLIN);
  const timespec zero = {0, 0};
  EXPECT_EQ(ppoll(&p, 1, &zero, nullptr), 1);
  fd_set rd;
  FD_ZERO(&rd);
  FD_SET(fds[0], &rd);
  timeval tv = {0, 0};
  EXPECT_EQ(select(fds[0] + 1, &rd, nullptr, nullptr, &tv), 1);
  FD_SET(fds[0], &rd);
  EXPECT_EQ(pselect(fds[0] + 1, &rd, nullptr, nullptr, &zero, nullptr), 1);
  const int ep = epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev = {};
  ev.events = EPOLLIN;
  ev.data.fd = fds[0];
  ASSERT_EQ(epoll_ctl(ep, EPOLL_CTL_ADD, fds[0], &ev), 0);
  epoll_event got[2];
  EXPECT_EQ(epoll_wait(ep, got, 2, 0), 1);
  EXPECT_EQ(epoll_pwait(ep, got, 2, 1000, nullptr), 1);
  EXPECT_EQ(got[0].data.fd, fds[0]);
  errno = 0;
  EXPECT_EQ(epoll_wait(-1, got, 2, 0), -1);
  EXPECT_EQ(errno, EBADF);
  for (int fd : {fds[0], fds[1], ep}) close(fd);
}

TEST_F(Passthrough, SleepsAndTheirErrors) {
  const timespec bad = {0, 2'000'000'000};
  errno = 0;
  EXPECT_EQ(nanosleep(&bad, nullptr), -1);
  EXPECT_EQ(errno, EINVAL);
  errno = 0;  // clock_nanosleep returns the error, errno untouched
  EXPECT_EQ(clock_nanosleep(CLOCK_MONOTONIC, 0, &bad, nullptr), EINVAL);
  EXPECT_EQ(errno, 0);
  const timespec short_sleep = {0, 1000};
  EXPECT_EQ(nanosleep(&short_sleep, nullptr), 0);
  EXPECT_EQ(clock_nanosleep(CLOCK_MONOTONIC, 0, &short_sleep, nullptr), 0);
  EXPECT_EQ(usleep(1), 0);
  EXPECT_EQ(sleep(0), 0u);
}

TEST_F(Passthrough, LocksThreadsAndProcesses) {
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
  pthread_mutex_t m;
  pthread_mutex_init(&m, &attr);
  EXPECT_EQ(pthread_mutex_lock(&m), 0);
  EXPECT_EQ(pthread_mutex_lock(&m), EDEADLK);
  pthread_cond_t c = PTHREAD_COND_INITIALIZER;
  timespec past = {0, 0};
  EXPECT_EQ(pthread_cond_timedwait(&c, &m, &past), ETIMEDOUT);
  EXPECT_EQ(pthread_mutex_unlock(&m), 0);
  pthread_mutex_destroy(&m);
  // A contended lock and a condition variable between two threads.
  pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
  bool ready = false;
  pthread_mutex_lock(&mu);
  std::thread t([&] {
    pthread_mutex_lock(&mu);  // waits for the unlock below
    ready = true;
    pthread_cond_signal(&c);
    pthread_mutex_unlock(&mu);
  });
  usleep(1000);
  while (!ready) pthread_cond_wait(&c, &mu);  // releases mu: t gets it
  pthread_mutex_unlock(&mu);
  t.join();
  pthread_t th;
  ASSERT_EQ(pthread_create(
                &th, nullptr, [](void*) -> void* { return reinterpret_cast<void*>(42); }, nullptr),
            0);
  void* ret = nullptr;
  EXPECT_EQ(pthread_join(th, &ret), 0);
  EXPECT_EQ(ret, reinterpret_cast<void*>(42));
  sem_t s;
  sem_init(&s, 0, 1);
  EXPECT_EQ(sem_wait(&s), 0);
  sem_destroy(&s);
  errno = 0;
  EXPECT_EQ(waitpid(-1, nullptr, 0), -1);
  EXPECT_EQ(errno, ECHILD);
  const pid_t child = fork();
  if (child == 0) _exit(7);
  int status = 0;
  EXPECT_EQ(waitpid(child, &status, 0), child);
  EXPECT_EQ(WEXITSTATUS(status), 7);
}

TEST_F(Passthrough, FileLocksFcntlAndSyscall) {
  char path[] = "/tmp/tether-preload-lockXXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  unlink(path);
  EXPECT_EQ(flock(fd, LOCK_EX), 0);
  EXPECT_EQ(flock(fd, LOCK_UN | LOCK_NB), 0);
  struct flock fl = {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  EXPECT_EQ(fcntl(fd, F_SETLKW, &fl), 0);
  EXPECT_EQ(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
  EXPECT_EQ(fcntl(fd, F_GETFL) & O_NONBLOCK, O_NONBLOCK);
  errno = 0;
  EXPECT_EQ(fcntl(-1, F_GETFD), -1);
  EXPECT_EQ(errno, EBADF);
  close(fd);
  EXPECT_EQ(syscall(SYS_getpid), getpid());
  // A futex wait whose value does not match returns at once: EAGAIN.
  std::uint32_t word = 1;
  errno = 0;
  EXPECT_EQ(syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, nullptr, nullptr, 0), -1);
  EXPECT_EQ(errno, EAGAIN);
}

// EINTR: a signal without SA_RESTART interrupts a blocked read; with
// SA_RESTART the read goes on and returns the data written later.
std::atomic<int> g_signals{0};
void on_signal(int) {
  g_signals.fetch_add(1);
}

ssize_t read_with_signals(bool restart, int* err) {
  struct sigaction sa = {}, old;
  sa.sa_handler = on_signal;
  sa.sa_flags = restart ? SA_RESTART : 0;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGUSR2, &sa, &old);
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  std::atomic<bool> done{false};
  ssize_t result = 0;
  std::thread reader([&] {
    char c;
    errno = 0;
    result = read(fds[0], &c, 1);
    *err = errno;
    done = true;
  });
  const pthread_t th = reader.native_handle();
  // Signal until it lands inside read (no SA_RESTART: read returns), or a
  // few times (SA_RESTART: read goes on), then write.
  for (int i = 0; !done && i < (restart ? 5 : 100000); ++i) {
    pthread_kill(th, SIGUSR2);
    usleep(2000);
  }
  if (restart) {
    EXPECT_EQ(write(fds[1], "z", 1), 1);
  }
  reader.join();
  close(fds[0]);
  close(fds[1]);
  sigaction(SIGUSR2, &old, nullptr);
  return result;
}

TEST_F(Passthrough, EintrWithoutSaRestart) {
  int err = 0;
  EXPECT_EQ(read_with_signals(false, &err), -1);
  EXPECT_EQ(err, EINTR);
}

TEST_F(Passthrough, SaRestartRestarts) {
  g_signals = 0;
  int err = 0;
  EXPECT_EQ(read_with_signals(true, &err), 1);
  EXPECT_GT(g_signals.load(), 0);
}

}  // namespace
