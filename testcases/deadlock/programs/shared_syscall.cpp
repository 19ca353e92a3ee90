// shared_syscall: the review's case. "the one goroutine in a thread was
// blocked in a system call and stopping the other from running (and maybe it
// was going to wake up the system call by its actions)".
//
// Two fibers are locked to the thread "io". "reader" makes a pipe, starts
// "writer" on the same thread, and reads the pipe with tether::sys::read. The
// read blocks the OS thread itself, so "writer" — runnable, and the only one
// that would ever write the pipe — never gets the thread: reader waits for
// writer through the pipe, writer waits for reader through the thread.
// main sleeps a second and returns (the stuck thread is left behind). Exit 0.
// Near miss: shared_syscall_near.cpp (the writer is a pool fiber).
#include <chrono>
#include <cstdio>

#include "tether/runtime.h"
#include "tether/sys.h"
#include "tether/thread_locker.h"
#include "tether/timer.h"

using namespace std::chrono_literals;

int main() {
  return tether::run([] {
    tether::ThreadLocker io = tether::ThreadLocker::make("io");
    io.go(
        [io]() mutable {
          int fds[2];
          if (tether::sys::pipe(fds) != 0) return;
          io.go(
              [fd = fds[1]] {  // BUG: locked to the thread the reader will block
                tether::sys::write(fd, "x", 1);
              },
              {.name = "writer"});
          char c;
          tether::sys::read(fds[0], &c, 1);  // blocks thread "io"
        },
        {.name = "reader"});
    tether::sleep_for(1s);
    std::printf("main: done\n");
    return 0;
  });
}
