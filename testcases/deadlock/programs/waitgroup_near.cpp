// waitgroup_near: the near miss of waitgroup.cpp — the same batch, workers
// and failure, but each worker calls done() from a guard's destructor, so the
// failing worker counts down too. The batch waits ~150 ms for sleeping
// workers, which is not a deadlock. Exit 0, silent.
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
  return i != 1;
}

struct DoneGuard {
  tether::WaitGroup& wg;
  ~DoneGuard() { wg.done(); }
};

int main() {
  return tether::run([] {
    bool finished = false;
    tether::FiberRef batch = tether::go(
        [&finished] {
          auto wg = std::make_shared<tether::WaitGroup>("workers");
          wg->add(3);
          for (int i = 0; i < 3; ++i) {
            tether::go(
                [wg, i] {
                  DoneGuard guard{*wg};  // done() on every path
                  if (!work(i)) return;
                },
                {.name = "worker"});
          }
          wg->wait();
          finished = true;
          std::printf("batch: all done\n");
        },
        {.name = "batch"});
    batch.join();
    return finished ? 0 : 1;
  });
}
