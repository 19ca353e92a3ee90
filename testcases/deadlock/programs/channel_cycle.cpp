// channel_cycle: two fibers that each send to the other before receiving.
//
// "ping" sends on c1 (to "pong") and then receives on c2; "pong" sends on c2
// (to "ping") and then receives on c1. Both channels are unbuffered, so both
// sends wait for a receiver that is itself waiting to send: a channel cycle
//   ping -> chan "c1" -> pong -> chan "c2" -> ping.
// "ping" creates the channels and starts "pong", so no fiber outside the two
// (main included) can have the channels: nothing else can break the cycle.
// main sleeps a second and returns. Exit 0.
// Near miss: channel_cycle_near.cpp (c2 has room for one value).
#include <chrono>
#include <cstdio>

#include "tether/chan.h"
#include "tether/fiber.h"
#include "tether/runtime.h"
#include "tether/timer.h"

using namespace std::chrono_literals;

int main() {
  return tether::run([] {
    tether::go(
        [] {
          tether::Chan<int> c1(0, "c1");
          tether::Chan<int> c2(0, "c2");
          tether::go(
              [c1, c2]() mutable {
                c2.send(2);  // waits for "ping", which is sending too
                c1.recv();
              },
              {.name = "pong"});
          c1.send(1);  // waits for "pong", which is sending too
          c2.recv();
        },
        {.name = "ping"});
    tether::sleep_for(1s);
    std::printf("main: done\n");
    return 0;
  });
}
