// lock_order: a lock-order inversion that does not hang this time.
//
// "transfer" locks accounts then audit, and finishes; only then does
// "report" lock audit then accounts. The two paths never overlap in this
// run, so nothing blocks; but run at the same time they can deadlock
// (lock_cycle.cpp is that run). Under `tether run` (lock-order tracking is on
// there, or with TETHER_LOCK_ORDER=1) the inversion is reported with both
// acquisition sites and stacks. Exit 0 on its own.
// Near miss: lock_order_near.cpp (both paths take accounts first).
#include <cstdio>

#include "tether/fiber.h"
#include "tether/mutex.h"
#include "tether/runtime.h"

int main() {
  return tether::run([] {
    tether::Mutex accounts("accounts");
    tether::Mutex audit("audit");
    int total = 0;
    tether::go(
        [&] {
          accounts.lock();
          audit.lock();  // accounts => audit
          total += 1;
          audit.unlock();
          accounts.unlock();
        },
        {.name = "transfer"})
        .join();
    tether::go(
        [&] {
          audit.lock();
          accounts.lock();  // BUG: audit => accounts, the opposite order
          total += 2;
          accounts.unlock();
          audit.unlock();
        },
        {.name = "report"})
        .join();
    std::printf("main: done %d\n", total);
    return 0;
  });
}
