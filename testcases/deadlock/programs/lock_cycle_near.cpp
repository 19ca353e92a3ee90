// lock_cycle_near: the near miss of lock_cycle.cpp — the same two fibers, the
// same locks, the same sleeps while holding the first lock, but both take
// accounts before audit. "report" waits up to 50 ms for accounts while
// "transfer" holds it (and sleeps): a wait, not a deadlock. Exit 0, silent.
#include <chrono>
#include <cstdio>
#include <memory>

#include "tether/fiber.h"
#include "tether/mutex.h"
#include "tether/runtime.h"
#include "tether/timer.h"

using namespace std::chrono_literals;

int main() {
  return tether::run([] {
    auto accounts = std::make_shared<tether::Mutex>("accounts");
    auto audit = std::make_shared<tether::Mutex>("audit");
    int done = 0;
    tether::FiberRef a = tether::go(
        [&done, accounts, audit] {
          accounts->lock();
          tether::sleep_for(50ms);
          audit->lock();
          ++done;
          audit->unlock();
          accounts->unlock();
        },
        {.name = "transfer"});
    tether::FiberRef b = tether::go(
        [&done, accounts, audit] {
          accounts->lock();  // the same order as "transfer"
          tether::sleep_for(50ms);
          audit->lock();
          ++done;
          audit->unlock();
          accounts->unlock();
        },
        {.name = "report"});
    a.join();
    b.join();
    std::printf("main: done %d\n", done);
    return done == 2 ? 0 : 1;
  });
}
