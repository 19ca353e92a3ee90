// tether-blocking-call-on-shared-thread: calls that block the OS thread of a
// ThreadLocker that several fibers share. Each case runs once, from main().
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <mutex>
#include <thread>

#include "tether/runtime.h"
#include "tether/sys.h"
#include "tether/thread_locker.h"
#include "tether_lint_annotations.h"

namespace gfx {
TETHER_BLOCKING void wait_for_vsync();
}

std::mutex registry_mu;

// Case 1: a fiber on a shared locker reads a pipe that a sibling fiber would
// write: the sibling never runs.
void go_lambda_reads(int fd) {
  auto gl = tether::ThreadLocker::make("gl");
  gl.go([fd] {
    char c;
    (void)read(fd, &c, 1);  // expect-warning: tether-blocking-call-on-shared-thread
  });
  gl.go([fd] { (void)tether::sys::close(fd); });
}

// Case 2: reached through two helper functions.
static void drain(int fd) {
  char buf[64];
  while (read(fd, buf, sizeof buf) > 0) {  // expect-warning: tether-blocking-call-on-shared-thread
  }
}
static void pump(int fd) { drain(fd); }
void transitive(int fd) {
  auto ui = tether::ThreadLocker::make("ui");
  ui.go([fd] { pump(fd); });
  ui.go([] {});
}

// Case 3: code after lock() runs on the locker's thread until unlock().
void after_lock() {
  auto render = tether::ThreadLocker::make("render");
  render.go([] {});
  tether::go([render]() mutable {
    render.lock();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // expect-warning: tether-blocking-call-on-shared-thread
    render.unlock();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // back on the pool: fine
  });
}

// Case 4: a std::mutex taken inside call(), and a user-declared blocking function.
void in_call() {
  auto gl = tether::ThreadLocker::make("gl4");
  gl.go([] { gfx::wait_for_vsync(); });  // expect-warning: tether-blocking-call-on-shared-thread
  gl.call([] {
    std::lock_guard<std::mutex> g(registry_mu);  // expect-warning: tether-blocking-call-on-shared-thread
  });
}

// Case 5: std::future::get and poll() on a locker whose fiber is started in a loop.
void future_in_loop(std::future<int>& f, int fd) {
  auto io = tether::ThreadLocker::make("io");
  for (int i = 0; i < 2; ++i) {
    io.go([&f, fd] {
      pollfd p{fd, POLLIN, 0};
      (void)poll(&p, 1, -1);  // expect-warning: tether-blocking-call-on-shared-thread
      (void)f.get();          // expect-warning: tether-blocking-call-on-shared-thread
    });
  }
}

int main() {
  return tether::run([] {
    std::promise<int> p;
    auto f = p.get_future();
    go_lambda_reads(0);
    transitive(0);
    after_lock();
    in_call();
    future_in_loop(f, 0);
    // Case 6: fiber 1 runs on the main thread, which it shares with a fiber
    // started on ThreadLocker::main().
    tether::ThreadLocker::main().go([] {});
    usleep(1000);  // expect-warning: tether-blocking-call-on-shared-thread
    return 0;
  });
}
