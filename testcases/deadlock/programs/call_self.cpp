// call_self: a call() into a thread that the caller's own chain holds.
//
// "reader", locked to the thread "gl", makes a pipe, starts a pool fiber
// "uploader" and reads the pipe with tether::sys::read — which blocks gl's
// OS thread. The uploader must run one function on gl (gl.call(...)) before
// it writes the pipe. The call's function is queued for gl, which the
// reader occupies until the pipe is written: reader waits for uploader
// (pipe), uploader waits for its call, the call waits for gl, gl is held by
// reader. main sleeps a second and returns. Exit 0.
// Near miss: call_self_near.cpp (the uploader writes before calling).
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
    tether::ThreadLocker gl = tether::ThreadLocker::make("gl");
    gl.go(
        [gl] {
          int fds[2];
          if (tether::sys::pipe(fds) != 0) return;
          tether::go(
              [gl, fd = fds[1]]() mutable {
                const int texture = gl.call([] { return 7; });     // waits for thread gl
                tether::sys::write(fd, &texture, sizeof texture);  // BUG: only after the call
              },
              {.name = "uploader"});
          int texture = 0;
          tether::sys::read(fds[0], &texture, sizeof texture);  // holds thread gl
        },
        {.name = "reader"});
    tether::sleep_for(1s);
    std::printf("main: done\n");
    return 0;
  });
}
