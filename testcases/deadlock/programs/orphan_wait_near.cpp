// orphan_wait_near: the near miss of orphan_wait.cpp — the same controller,
// worker, channel and ticker, but the controller's setup succeeds after
// 300 ms (three watchdog periods) and it sends the go-ahead. While it sets up
// the worker waits on a channel whose only other holder is sleeping: a wait,
// not an orphan. Exit 0, silent.
#include <chrono>
#include <cstdio>

#include "tether/chan.h"
#include "tether/fiber.h"
#include "tether/runtime.h"
#include "tether/timer.h"

using namespace std::chrono_literals;

bool setup_succeeds() {
  tether::sleep_for(300ms);  // slow, but it gets there
  return true;
}

int main() {
  return tether::run([] {
    tether::Chan<int> ticks(0, "ticks");
    tether::FiberRef ticker = tether::go(
        [ticks]() mutable {
          for (int i = 0; i < 20; ++i) {
            tether::sleep_for(50ms);
            ticks.send(i);
          }
          ticks.close();
        },
        {.name = "ticker"});
    tether::FiberRef worker;
    tether::FiberRef controller = tether::go(
        [&worker] {
          tether::Chan<int> go_ahead(0, "go-ahead");
          worker = tether::go(
              [go_ahead]() mutable {
                if (go_ahead.recv()) std::printf("worker: got go-ahead\n");
              },
              {.name = "worker"});
          if (!setup_succeeds()) return;
          go_ahead.send(1);
        },
        {.name = "controller"});
    int n = 0;
    for (int tick : ticks) n += tick >= 0;
    ticker.join();
    controller.join();
    worker.join();
    std::printf("main: %d ticks\n", n);
    return n == 20 ? 0 : 1;
  });
}
