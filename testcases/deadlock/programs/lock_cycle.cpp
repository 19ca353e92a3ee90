// lock_cycle: the AB-BA deadlock between two pool fibers.
//
// "transfer" locks accounts then audit; "report" locks audit then accounts.
// Each sleeps while holding its first lock, so each gets its first lock and
// then waits forever for the other's: a lock cycle
//   fiber A -> mutex "audit" -> fiber B -> mutex "accounts" -> fiber A.
// main is not involved: it sleeps, so the program as a whole is not stuck
// (no "all fibers are asleep"); the watchdog reports the cycle, and main
// returns after a second, abandoning the two fibers. Exit 0.
// Near miss: lock_cycle_near.cpp (both take the locks in the same order).
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
    // Shared, because the abandoned fibers keep using them after main returns.
    auto accounts = std::make_shared<tether::Mutex>("accounts");
    auto audit = std::make_shared<tether::Mutex>("audit");
    tether::go(
        [accounts, audit] {
          accounts->lock();
          tether::sleep_for(50ms);  // let "report" take audit
          audit->lock();            // waits for "report" forever
          audit->unlock();
          accounts->unlock();
        },
        {.name = "transfer"});
    tether::go(
        [accounts, audit] {
          audit->lock();
          tether::sleep_for(50ms);
          accounts->lock();  // BUG: the opposite order
          accounts->unlock();
          audit->unlock();
        },
        {.name = "report"});
    tether::sleep_for(1s);  // long enough for the watchdog (every 100 ms)
    std::printf("main: done\n");
    return 0;
  });
}
