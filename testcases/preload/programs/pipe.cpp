// preload pipe: the review's case, inside a C library that never calls
// tether::sys (testcases/deadlock/programs/shared_syscall.cpp is the
// tether::sys version).
//
// Two fibers are locked to the thread "io". "reader" opens the library's
// channel (a pipe), starts "writer" on the same thread, and waits in the
// library (blk_wait: a plain read()). The read blocks the OS thread, so
// "writer", the only fiber that would signal the channel, never runs. Only
// libtether_preload.so tells the runtime that the thread sits in read().
// main sleeps a second and returns. Exit 0 (66 under `tether run`).
// Near miss: pipe_near.cpp.
#include <chrono>
#include <cstdio>

#include "blocking.h"
#include "tether/runtime.h"
#include "tether/thread_locker.h"
#include "tether/timer.h"

using namespace std::chrono_literals;

int main() {
  return tether::run([] {
    tether::ThreadLocker io = tether::ThreadLocker::make("io");
    io.go(
        [io]() mutable {
          int fds[2];
          if (blk_open(fds) != 0) return;
          io.go([fd = fds[1]] { blk_signal(fd, 'x'); },  // BUG: locked to the blocked thread
                {.name = "writer"});
          blk_wait(fds[0]);  // blocks thread "io" in read()
        },
        {.name = "reader"});
    tether::sleep_for(1s);
    std::printf("main: done\n");
    return 0;
  });
}
