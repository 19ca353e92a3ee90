// main_call: a call() into the main thread while main blocks it in a read.
//
// main (fiber 1, on the process's main thread) makes a pipe, starts the pool
// fiber "uploader" and reads the pipe. The uploader must run one function on
// the main thread (ThreadLocker::main().call(...), as GUI code must) before
// it writes the pipe; main's read holds the main thread until then. This is
// call_self.cpp with the main thread, and since main is part of it no fiber
// at all can progress: "all fibers are asleep", exit 2.
// Near miss: main_call_near.cpp (the uploader writes before calling).
#include <cstdio>

#include "tether/fiber.h"
#include "tether/runtime.h"
#include "tether/sys.h"
#include "tether/thread_locker.h"

int main() {
  return tether::run([] {
    int fds[2];
    if (tether::sys::pipe(fds) != 0) return 1;
    tether::go(
        [fd = fds[1]] {
          int v = tether::ThreadLocker::main().call([] { return 5; });  // waits for the main thread
          tether::sys::write(fd, &v, sizeof v);                         // BUG: only after the call
        },
        {.name = "uploader"});
    int v = 0;
    tether::sys::read(fds[0], &v, sizeof v);  // holds the main thread
    std::printf("main: read %d\n", v);
    return 0;
  });
}
