// A dump once memory has run out, for check_dump_oom.py (docs/dump-format.md,
// "When memory runs out").
//
//   dump_oom vmsize      prints the process's VmSize (KiB) once the runtime runs
//   dump_oom terminate   exhausts memory, then lets std::bad_alloc escape a
//                        fiber: "fatal error: uncaught exception", the dump,
//                        death by SIGABRT
//   dump_oom quit        exhausts memory, then raises SIGQUIT: the dump, exit 2
//
// Run under a low RLIMIT_AS (prlimit). Before exhausting memory, fiber 1
// starts kParked fibers parked in parked_in_user_code() (one group in the
// dump) and one named "odd" in odd_one_out(). A fiber named "filler" then
// starts fibers until go() fails (the fiber stacks take the address space),
// and allocates heap blocks, ever smaller, until even 16 bytes fail: malloc
// has nothing left. That is when the dump is asked for. It prints
// "dump_oom: fibers N" on stdout first (N: the fibers alive) for the checker.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "tether/chan.h"
#include "tether/fiber.h"
#include "tether/runtime.h"
#include "vmsize.h"
#include "tether/timer.h"

using namespace std::chrono_literals;

namespace {

constexpr int kParked = 20;

[[gnu::noinline]] void parked_in_user_code(tether::Chan<int>& gate) {
  gate.recv();
  asm volatile("" ::: "memory");  // not a tail call: this frame stays on the stack
}

[[gnu::noinline]] void odd_one_out(tether::Chan<int>& gate) {
  gate.recv();
  asm volatile("" ::: "memory");
}

// Heap blocks chained through their first word: holding them needs no
// container that would itself have to grow.
void* g_held = nullptr;

// Allocates until even 16 bytes fail. Returns normally (memory exhausted).
void exhaust_heap() {
  for (std::size_t size = std::size_t{1} << 20; size >= 16; size /= 2) {
    for (;;) {
      void* p = std::malloc(size);
      if (!p) break;
      *static_cast<void**>(p) = g_held;
      g_held = p;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode != "vmsize" && mode != "terminate" && mode != "quit") {
    std::fprintf(stderr, "usage: dump_oom vmsize|terminate|quit\n");
    return 2;
  }
  return tether::run([&]() -> int {
    if (mode == "vmsize") {
      tether::go([] {}).join();  // warm up what the other modes use before the limit bites
      std::printf("%ld\n", vmsize_kib());
      return 0;
    }
    tether::Chan<int> gate(0, "gate");
    std::vector<tether::FiberRef> fibers;
    fibers.reserve(1 << 20);
    for (int i = 0; i < kParked; ++i)
      fibers.push_back(tether::go([&] { parked_in_user_code(gate); }));
    fibers.push_back(tether::go([&] { odd_one_out(gate); }, {.name = "odd", .stack_size = 0}));
    tether::sleep_for(50ms);  // they park
    auto filler = tether::go(
        [&] {
          try {
            for (;;) fibers.push_back(tether::go([&] { gate.recv(); }));
          } catch (const std::bad_alloc&) {
          }
          tether::sleep_for(50ms);  // the fillers park (their stacks are in use)
          std::printf("dump_oom: fibers %zu\n", fibers.size() + 2);  // + fiber 1 + filler
          std::fflush(stdout);
          exhaust_heap();
          if (mode == "quit") {
            ::kill(getpid(), SIGQUIT);
            for (;;) ::pause();  // the dump thread exits the process
          }
          throw std::bad_alloc();  // uncaught: std::terminate
        },
        {.name = "filler", .stack_size = 0});
    filler.join();
    std::printf("dump_oom: the filler returned?\n");
    return 1;
  });
}
