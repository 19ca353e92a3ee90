// stall_near: the near miss of stall.cpp — the same two fibers on the thread
// "ui" and the same 1.5 s of work, but render yields every millisecond, so
// input runs at once and the thread is never held for long. Run with
// TETHER_STALL_MS=500 like stall.cpp. Exit 0, silent.
#include <chrono>
#include <cstdio>

#include "tether/fiber.h"
#include "tether/runtime.h"
#include "tether/thread_locker.h"

using namespace std::chrono_literals;

void compute_for(std::chrono::milliseconds d) {
  const auto end = std::chrono::steady_clock::now() + d;
  auto next_yield = std::chrono::steady_clock::now();
  volatile unsigned long x = 0;
  while (std::chrono::steady_clock::now() < end) {
    x = x + 1;
    if (std::chrono::steady_clock::now() >= next_yield) {
      tether::this_fiber::yield();  // lets "input" (and anyone else on ui) run
      next_yield = std::chrono::steady_clock::now() + 1ms;
    }
  }
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
