// channel_cycle_near: the near miss of channel_cycle.cpp — the same two
// fibers and channels, but c2 has room for one value, so "pong"'s send
// completes at once, "pong" then receives "ping"'s value on c1, and "ping"
// finds pong's value waiting in c2. Exit 0, silent.
#include <atomic>
#include <cstdio>

#include "tether/chan.h"
#include "tether/fiber.h"
#include "tether/runtime.h"

int main() {
  return tether::run([] {
    std::atomic<int> got = 0;
    tether::FiberRef ping = tether::go(
        [&got] {
          tether::Chan<int> c1(0, "c1");
          tether::Chan<int> c2(1, "c2");  // buffered: pong's send does not wait
          tether::FiberRef pong = tether::go(
              [c1, c2, &got]() mutable {
                c2.send(2);
                got += *c1.recv();
              },
              {.name = "pong"});
          c1.send(1);
          got += *c2.recv();
          pong.join();
        },
        {.name = "ping"});
    ping.join();
    std::printf("main: got %d\n", got.load());
    return got == 3 ? 0 : 1;
  });
}
