// main_call_near: the near miss of main_call.cpp — the uploader sleeps
// 200 ms (main sits in read() holding the main thread), writes the pipe, and
// only then calls into the main thread, which main frees by waiting on a
// channel (a fiber wait, not a system call). Exit 0, silent.
#include <chrono>
#include <cstdio>

#include "tether/chan.h"
#include "tether/fiber.h"
#include "tether/runtime.h"
#include "tether/sys.h"
#include "tether/thread_locker.h"
#include "tether/timer.h"

using namespace std::chrono_literals;

int main() {
  return tether::run([] {
    int fds[2];
    if (tether::sys::pipe(fds) != 0) return 1;
    tether::Chan<int> done(0, "done");
    tether::FiberRef uploader = tether::go(
        [done, fd = fds[1]]() mutable {
          tether::sleep_for(200ms);
          int v = 5;
          tether::sys::write(fd, &v, sizeof v);                            // first write ...
          done.send(tether::ThreadLocker::main().call([] { return 1; }));  // ... then call
        },
        {.name = "uploader"});
    int v = 0;
    tether::sys::read(fds[0], &v, sizeof v);
    v += *done.recv();
    uploader.join();
    std::printf("main: read %d\n", v);
    return v == 6 ? 0 : 1;
  });
}
