// Resource exhaustion, for check_exhaust.sh (docs/reliability.md, "Limits").
//
//   exhaust vmsize     prints the process's VmSize (KiB) once the runtime runs
//   exhaust huge       go() with a 2 TiB stack: the stack mmap fails
//   exhaust fibers     starts parked fibers until go() fails (run it under a
//                      low RLIMIT_AS), then releases them all and checks the
//                      runtime still works
//   exhaust uncaught   the same, but a fiber that is not fiber 1 lets the
//                      std::bad_alloc escape: the runtime stops with the
//                      reason (and a dump when memory allows)
// The documented outcome: go() throws std::bad_alloc whose what() starts
// with "tether: cannot allocate a fiber stack"; the program may catch it and
// go on.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "tether/chan.h"
#include "tether/fiber.h"
#include "tether/runtime.h"
#include "vmsize.h"

namespace {

// Starts parked fibers until go() throws.
void fill(tether::Chan<int>& gate, std::vector<tether::FiberRef>& fibers) {
  for (;;) {
    fibers.push_back(tether::go([&gate] { gate.recv(); }));
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  return tether::run([&]() -> int {
    if (mode == "vmsize") {
      // Warm up what a run of "fibers" uses before its limit bites.
      tether::go([] {}).join();
      std::printf("%ld\n", vmsize_kib());
      return 0;
    }
    if (mode == "huge") {
      try {
        tether::go([] {}, {.name = "huge", .stack_size = std::size_t{2} << 40});
      } catch (const std::bad_alloc& e) {
        std::printf("exhaust: go() failed: %s\n", e.what());
        auto f = tether::go([] {});  // and the runtime goes on
        f.join();
        std::printf("exhaust: still running\n");
        return 0;
      }
      std::printf("exhaust: a 2 TiB stack was allocated?\n");
      return 1;
    }
    if (mode == "fibers") {
      tether::Chan<int> gate(0, "gate");
      std::vector<tether::FiberRef> fibers;
      fibers.reserve(1 << 20);
      try {
        fill(gate, fibers);
      } catch (const std::bad_alloc& e) {
        std::printf("exhaust: go() failed after %zu fibers: %s\n", fibers.size(), e.what());
      }
      if (fibers.empty()) return 1;
      gate.close();
      for (auto& f : fibers) f.join();
      // The stacks went back to the pool: as many fibers fit again.
      const std::size_t before = fibers.size();
      fibers.clear();
      tether::Chan<int> again(0);
      // join() returns once a fiber has finished, a moment before the
      // scheduler hands its stack back to the pool (the fiber still runs on
      // it until it switches out). So the last few stacks may still be on
      // their way: a go() that fails now is retried a little later, and only
      // a second without progress fails the check.
      // (Yield, not sleep: arming a timer allocates, and memory is short.)
      auto since = std::chrono::steady_clock::now();
      while (fibers.size() < before) {
        try {
          fibers.push_back(tether::go([&] { again.recv(); }));
          since = std::chrono::steady_clock::now();
        } catch (const std::bad_alloc& e) {
          if (std::chrono::steady_clock::now() - since > std::chrono::seconds(1)) {
            std::printf("exhaust: only %zu of %zu fibers fit again: %s\n", fibers.size(), before,
                        e.what());
            again.close();
            for (auto& f : fibers) f.join();
            return 1;
          }
          tether::this_fiber::yield();
        }
      }
      again.close();
      for (auto& f : fibers) f.join();
      std::printf("exhaust: %zu fibers again after releasing them: still running\n", before);
      return 0;
    }
    if (mode == "uncaught") {
      tether::Chan<int> gate(0, "gate");
      std::vector<tether::FiberRef> fibers;
      fibers.reserve(1 << 20);
      auto spawner = tether::go([&] { fill(gate, fibers); }, {.name = "spawner", .stack_size = 0});
      spawner.join();
      std::printf("exhaust: the spawner returned?\n");
      return 1;
    }
    std::fprintf(stderr, "usage: exhaust vmsize|huge|fibers|uncaught\n");
    return 2;
  });
}
