// stall: one fiber holds a shared locked thread for 1.5 s without yielding.
//
// "render" and "input" are locked to the thread "ui". render computes for
// 1.5 s in one go (fibers are cooperative: it never blocks, never yields), so
// input, runnable on the same thread, cannot run until it is done. Nothing is
// deadlocked — it ends by itself — but with TETHER_STALL_MS=500 the watchdog
// warns "tether: stall: fiber N has held thread "ui" without yielding for ...
// while 1 fiber is runnable there". Exit 0.
// Near miss: stall_near.cpp (render yields every millisecond).
#include <chrono>
#include <cstdio>

#include "tether/fiber.h"
#include "tether/runtime.h"
#include "tether/thread_locker.h"

using namespace std::chrono_literals;

// Busy work, not a sleep: the fiber keeps its thread.
void compute_for(std::chrono::milliseconds d) {
  const auto end = std::chrono::steady_clock::now() + d;
  volatile unsigned long x = 0;
  while (std::chrono::steady_clock::now() < end) x = x + 1;  // BUG: never yields
}

int main() {
  return tether::run([] {
    tether::ThreadLocker ui = tether::ThreadLocker::make("ui");
    tether::FiberRef render = ui.go([] { compute_for(1500ms); }, {.name = "render"});
    tether::FiberRef input = ui.go([] { std::printf("input: handled\n"); }, {.name = "input"});
    render.join();
    input.join();
    std::printf("main: done\n");
    return 0;
  });
}
