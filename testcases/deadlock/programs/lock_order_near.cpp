// lock_order_near: the near miss of lock_order.cpp — the same two fibers,
// one after the other, but both take accounts before audit: one order,
// no inversion. Exit 0, silent (also under `tether run`).
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
          audit.lock();
          total += 1;
          audit.unlock();
          accounts.unlock();
        },
        {.name = "transfer"})
        .join();
    tether::go(
        [&] {
          accounts.lock();
          audit.lock();  // the same order
          total += 2;
          audit.unlock();
          accounts.unlock();
        },
        {.name = "report"})
        .join();
    std::printf("main: done %d\n", total);
    return 0;
  });
}
