// rwmutex: a recursive read lock behind a waiting writer (Go's RWMutex rule).
//
// "reader" read-locks config, and while holding it calls a helper that
// read-locks config again. In between, "writer" asks for the write lock and
// waits for the reader to leave. A waiting writer blocks new readers (so
// writers never starve), so the reader's second rlock() waits behind the
// writer, which waits for the reader: neither can proceed. main sleeps a
// second and returns.
// Near miss: rwmutex_near.cpp (the reader releases before it reads again).
#include <chrono>
#include <cstdio>
#include <memory>

#include "tether/fiber.h"
#include "tether/runtime.h"
#include "tether/rw_mutex.h"
#include "tether/timer.h"

using namespace std::chrono_literals;

int main() {
  return tether::run([] {
    auto config = std::make_shared<tether::RWMutex>("config");
    tether::go(
        [config] {
          config->rlock();
          tether::sleep_for(100ms);  // the writer arrives meanwhile
          config->rlock();           // BUG: recursive read lock, waits behind the writer
          config->runlock();
          config->runlock();
        },
        {.name = "reader"});
    tether::go(
        [config] {
          tether::sleep_for(30ms);
          config->lock();  // waits for the reader
          config->unlock();
        },
        {.name = "writer"});
    tether::sleep_for(1s);
    std::printf("main: done\n");
    return 0;
  });
}
