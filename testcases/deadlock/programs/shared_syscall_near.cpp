// shared_syscall_near: the near miss of shared_syscall.cpp — the same pipe,
// the same blocking read on the thread "io", but the writer is a pool fiber,
// which the blocked thread cannot hold up. The writer sleeps 300 ms first, so
// the reader really sits in read() with the thread occupied for several
// watchdog periods; the writer's sleep is what the detector must see as
// progress. Exit 0, silent.
#include <chrono>
#include <cstdio>

#include "tether/fiber.h"
#include "tether/runtime.h"
#include "tether/sys.h"
#include "tether/thread_locker.h"
#include "tether/timer.h"

using namespace std::chrono_literals;

int main() {
  return tether::run([] {
    tether::ThreadLocker io = tether::ThreadLocker::make("io");
    char c = 0;
    tether::FiberRef reader = io.go(
        [&c] {
          int fds[2];
          if (tether::sys::pipe(fds) != 0) return;
          tether::FiberRef writer = tether::go(
              [fd = fds[1]] {  // on the pool: free to run while "io" is blocked
                tether::sleep_for(300ms);
                tether::sys::write(fd, "x", 1);
              },
              {.name = "writer"});
          tether::sys::read(fds[0], &c, 1);
          writer.join();
          tether::sys::close(fds[0]);
          tether::sys::close(fds[1]);
        },
        {.name = "reader"});
    reader.join();
    std::printf("main: read '%c'\n", c);
    return c == 'x' ? 0 : 1;
  });
}
