// locker_owner: lock to a thread whose owner never serves it.
//
// A setup fiber makes thread "gl" and a pipe, starts "owner" on gl, which
// reads the pipe (blocking gl's OS thread: the owner never parks, so gl
// runs nothing else), and the pool fiber "client", which must move onto gl
// (gl.lock()) before it writes the pipe. The client waits for the thread,
// the thread for the owner's read, the read for the client. The setup fiber
// has returned, so no one else has the pipe. main sleeps a second and
// returns. Exit 0.
// Near miss: locker_owner_near.cpp (the client writes before locking).
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
    tether::go([] {
      tether::ThreadLocker gl = tether::ThreadLocker::make("gl");
      int fds[2];
      if (tether::sys::pipe(fds) != 0) return;
      gl.go(
          [fd = fds[0]] {
            char c;
            tether::sys::read(fd, &c, 1);  // holds thread gl until the pipe is written
          },
          {.name = "owner"});
      tether::go(
          [gl, fd = fds[1]]() mutable {
            tether::sleep_for(50ms);  // the owner is in read() by now
            gl.lock();                // waits for thread gl forever
            tether::sys::write(fd, "x", 1);  // BUG: only once on gl
            gl.unlock();
          },
          {.name = "client"});
    });
    tether::sleep_for(1s);
    std::printf("main: done\n");
    return 0;
  });
}
