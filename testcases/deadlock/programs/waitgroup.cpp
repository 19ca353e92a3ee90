// waitgroup: a WaitGroup that is never done, because a worker's error path
// skips its done().
//
// "batch" adds 3 to the WaitGroup "workers", starts three workers and waits.
// Worker 1 fails and returns without calling done(); the others finish. Once
// they have, nothing that has the WaitGroup is left to count it down: the
// batch waits forever (an orphan wait). main sleeps a second and returns.
// Near miss: waitgroup_near.cpp (done() runs on every path, via a guard).
#include <chrono>
#include <cstdio>
#include <memory>

#include "tether/fiber.h"
#include "tether/runtime.h"
#include "tether/timer.h"
#include "tether/wait_group.h"

using namespace std::chrono_literals;

bool work(int i) {
  tether::sleep_for(50ms * (i + 1));
  return i != 1;  // worker 1 fails
}

int main() {
  return tether::run([] {
    tether::go(
        [] {
          auto wg = std::make_shared<tether::WaitGroup>("workers");
          wg->add(3);
          for (int i = 0; i < 3; ++i) {
            tether::go(
                [wg, i] {
                  if (!work(i)) return;  // BUG: returns without wg->done()
                  wg->done();
                },
                {.name = "worker"});
          }
          wg->wait();
          std::printf("batch: all done\n");
        },
        {.name = "batch"});
    tether::sleep_for(1s);
    std::printf("main: done\n");
    return 0;
  });
}
