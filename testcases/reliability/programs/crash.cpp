// A program that crashes in a fiber, for the crash tests (check_crash.sh).
//
//   crash segv|exception|abort|overflow
//
// Fiber 1 starts four fibers with known names and wait states, then one
// named "crasher" that crashes the chosen way once the others have parked:
//   receiver     [chan receive]   on the pool
//   waiter       [mutex lock]     on the pool
//   gl-sleeper   [sleep]          locked to thread "gl"
//   crasher      segv: writes to an unmapped address (pool)
//                exception: throws std::runtime_error("boom") (pool)
//                abort: calls abort() (locked to thread "gl")
//                overflow: recurses on a 256 KiB stack (pool)
// Fiber 1 itself waits in join. Each crash must print one "fatal error" line
// and the dump of all five fibers, then end the process by the same signal.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#include "tether/chan.h"
#include "tether/fiber.h"
#include "tether/mutex.h"
#include "tether/runtime.h"
#include "tether/thread_locker.h"
#include "tether/timer.h"

using namespace std::chrono_literals;

namespace {

volatile std::uintptr_t g_bad_address = 16;  // not null (UBSan), but unmapped
volatile int g_sink = 0;

[[gnu::noinline]] void segv_in_user_code() {
  *reinterpret_cast<volatile int*>(g_bad_address) = 1;
}

[[gnu::noinline]] void throw_in_user_code() {
  throw std::runtime_error("boom");
}

[[gnu::noinline]] int recurse_in_user_code(int depth) {
  volatile char pad[512];
  pad[0] = static_cast<char>(depth);
  if (g_sink == -1) return 0;  // never: hides the recursion from -Winfinite-recursion
  return recurse_in_user_code(depth + 1) + pad[0];
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode != "segv" && mode != "exception" && mode != "abort" && mode != "overflow") {
    std::fprintf(stderr, "usage: crash segv|exception|abort|overflow\n");
    return 2;
  }
  return tether::run([&] {
    tether::Chan<int> never(0, "never");
    tether::Mutex m;
    m.lock();
    auto gl = tether::ThreadLocker::make("gl");
    auto r = tether::go([&] { never.recv(); }, {.name = "receiver", .stack_size = 0});
    auto w = tether::go(
        [&] {
          m.lock();
          m.unlock();
        },
        {.name = "waiter", .stack_size = 0});
    auto s = gl.go([] { tether::sleep_for(60s); }, {.name = "gl-sleeper", .stack_size = 0});
    auto body = [mode] {
      tether::sleep_for(100ms);  // the others park first
      if (mode == "segv") segv_in_user_code();
      if (mode == "exception") throw_in_user_code();
      if (mode == "abort") std::abort();
      if (mode == "overflow") g_sink = recurse_in_user_code(0);
    };
    tether::FiberOptions opts{.name = "crasher",
                              .stack_size = mode == "overflow" ? std::size_t{256} * 1024 : 0};
    auto c = mode == "abort" ? gl.go(body, opts) : tether::go(body, opts);
    c.join();
    std::fprintf(stderr, "crash: the crasher returned\n");
    return 3;
  });
}
