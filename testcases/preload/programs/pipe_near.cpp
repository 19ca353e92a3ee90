// preload pipe_near: the near miss of pipe.cpp. The same library channel and
// the same blocking read on thread "io", but the writer is a pool fiber: it
// sleeps 300 ms (the reader really sits in read() with "io" occupied for
// several detector periods) and then signals. Completes; silent.
#include <chrono>
#include <cstdio>

#include "blocking.h"
#include "tether/fiber.h"
#include "tether/runtime.h"
#include "tether/thread_locker.h"
#include "tether/timer.h"

using namespace std::chrono_literals;

int main() {
  return tether::run([] {
    tether::ThreadLocker io = tether::ThreadLocker::make("io");
    int got = -1;
    tether::FiberRef reader = io.go(
        [&got] {
          int fds[2];
          if (blk_open(fds) != 0) return;
          tether::FiberRef writer = tether::go(
              [fd = fds[1]] {  // on the pool: free to run while "io" is blocked
                tether::sleep_for(300ms);
                blk_signal(fd, 'x');
              },
              {.name = "writer"});
          got = blk_wait(fds[0]);
          writer.join();
          blk_close(fds);
        },
        {.name = "reader"});
    reader.join();
    std::printf("main: read '%c'\n", got);
    return got == 'x' ? 0 : 1;
  });
}
