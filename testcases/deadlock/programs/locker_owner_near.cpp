// locker_owner_near: the near miss of locker_owner.cpp — the same owner
// reading the pipe on thread "gl" for several watchdog periods, the same
// client moving onto gl, but the client writes the pipe first (after
// 300 ms) and locks afterwards: the read returns, the owner parks (it
// sleeps before it ends), and the client gets the thread. Exit 0, silent.
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
    tether::FiberRef owner, client;
    tether::go([&] {
      tether::ThreadLocker gl = tether::ThreadLocker::make("gl");
      int fds[2];
      if (tether::sys::pipe(fds) != 0) return;
      owner = gl.go(
          [fd = fds[0]] {
            char c;
            tether::sys::read(fd, &c, 1);  // holds thread gl for ~300 ms
            tether::sleep_for(100ms);       // parks: gl is free for the client
          },
          {.name = "owner"});
      client = tether::go(
          [gl, fd = fds[1]]() mutable {
            tether::sleep_for(300ms);
            tether::sys::write(fd, "x", 1);  // first the write,
            gl.lock();                       // then the thread
            gl.unlock();
          },
          {.name = "client"});
    }).join();
    owner.join();
    client.join();
    std::printf("main: done\n");
    return 0;
  });
}
