// orphan_wait: a fiber left waiting by a peer that took an error path, while
// the rest of the program keeps running.
//
// "controller" makes a channel "go-ahead", starts "worker" (which waits on it)
// and is supposed to send the go-ahead after its setup; its setup fails and it
// returns early without sending. Nobody else ever had the channel: the worker
// is orphaned. Meanwhile a "ticker" fiber and main keep working for a second,
// so this is not "all fibers are asleep": only the watchdog's partial check
// can find it. Then main returns (the worker is abandoned). Exit 0.
// Near miss: orphan_wait_near.cpp (setup takes 300 ms but succeeds).
#include <chrono>
#include <cstdio>

#include "tether/chan.h"
#include "tether/fiber.h"
#include "tether/runtime.h"
#include "tether/timer.h"

using namespace std::chrono_literals;

bool setup_succeeds() {
  return false;
}

int main() {
  return tether::run([] {
    tether::Chan<int> ticks(0, "ticks");
    tether::go(
        [ticks]() mutable {
          for (int i = 0; i < 20; ++i) {
            tether::sleep_for(50ms);
            ticks.send(i);
          }
          ticks.close();
        },
        {.name = "ticker"});
    tether::go(
        [] {
          tether::Chan<int> go_ahead(0, "go-ahead");
          tether::go(
              [go_ahead]() mutable {
                if (go_ahead.recv()) std::printf("worker: got go-ahead\n");
              },
              {.name = "worker"});
          if (!setup_succeeds()) return;  // BUG: the worker still waits for go_ahead
          go_ahead.send(1);
        },
        {.name = "controller"});
    int n = 0;
    for (int tick : ticks) n += tick >= 0;  // the program goes on for ~1 s
    std::printf("main: %d ticks\n", n);
    return 0;
  });
}
