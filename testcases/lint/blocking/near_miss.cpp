// Near misses of tether-blocking-call-on-shared-thread: none may be reported.
#include <unistd.h>

#include <chrono>
#include <mutex>
#include <thread>

#include "tether/mutex.h"
#include "tether/runtime.h"
#include "tether/sys.h"
#include "tether/thread_locker.h"

std::mutex stats_mu;
tether::Mutex state_mu;

// The runtime's own wrapper: recorded and watched at run time, not a finding.
void sys_read_on_locker(int fd) {
  auto gl = tether::ThreadLocker::make("gl");
  gl.go([fd] {
    char c;
    (void)tether::sys::read(fd, &c, 1);
  });
  gl.go([] {});
}

// A locker with a single fiber: blocking it stops nobody else.
void lone_fiber(int fd) {
  auto solo = tether::ThreadLocker::make("solo");
  solo.go([fd] {
    char c;
    (void)read(fd, &c, 1);
  });
}

// Pool fibers and plain threads may block their own thread.
void pool_and_thread(int fd) {
  tether::go([fd] {
    char c;
    (void)read(fd, &c, 1);
  });
  std::thread t([] { std::lock_guard<std::mutex> g(stats_mu); });
  t.join();
}

// After unlock() the fiber is back on the pool.
void after_unlock() {
  auto gl = tether::ThreadLocker::make("gl2");
  gl.go([] {});
  gl.go([gl]() mutable {
    gl.unlock();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  });
}

// tether::Mutex parks the fiber, not the thread; lock_os_thread gives the
// fiber a thread of its own (1:1), which it may block.
void fiber_aware(int fd) {
  auto gl = tether::ThreadLocker::make("gl3");
  gl.go([] { std::lock_guard<tether::Mutex> g(state_mu); });
  gl.go([] { state_mu.lock(); state_mu.unlock(); });
  tether::go([fd] {
    tether::lock_os_thread();
    char c;
    (void)read(fd, &c, 1);
    tether::unlock_os_thread();
  });
}

// A blocking helper that only pool fibers call.
static void slow_helper() { usleep(10); }
void helper_on_pool() {
  auto gl = tether::ThreadLocker::make("gl5");
  gl.go([] {});
  gl.go([] { tether::go([] { slow_helper(); }); });
}

int main() {
  return tether::run([] {
    sys_read_on_locker(0);
    lone_fiber(0);
    pool_and_thread(0);
    after_unlock();
    fiber_aware(0);
    helper_on_pool();
    usleep(10);  // fiber 1 alone on the main thread
    return 0;
  });
}
