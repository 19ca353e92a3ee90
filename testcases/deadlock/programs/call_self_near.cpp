// call_self_near: the near miss of call_self.cpp — the same reader blocked in
// read() on the thread "gl", the same pool uploader with a gl.call(), but the
// uploader writes the pipe first and calls afterwards: the read returns, gl's
// thread is free again, and the call runs there. (The reader then waits for
// the uploader's "done", so gl still has a locked fiber — and still serves
// call() — when the call arrives.) Exit 0, silent.
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
    tether::ThreadLocker gl = tether::ThreadLocker::make("gl");
    int got = 0;
    tether::FiberRef reader = gl.go(
        [gl, &got] {
          int fds[2];
          if (tether::sys::pipe(fds) != 0) return;
          tether::Chan<int> done(0, "done");
          tether::FiberRef uploader = tether::go(
              [gl, done, fd = fds[1]]() mutable {
                tether::sleep_for(200ms);  // the reader sits in read(), holding gl, meanwhile
                int texture = 7;
                tether::sys::write(fd, &texture, sizeof texture);  // first write ...
                done.send(gl.call([] { return 1; }));              // ... then call
              },
              {.name = "uploader"});
          int texture = 0;
          tether::sys::read(fds[0], &texture, sizeof texture);
          got = texture + *done.recv();
          uploader.join();
          tether::sys::close(fds[0]);
          tether::sys::close(fds[1]);
        },
        {.name = "reader"});
    reader.join();
    std::printf("main: got %d\n", got);
    return got == 8 ? 0 : 1;
  });
}
