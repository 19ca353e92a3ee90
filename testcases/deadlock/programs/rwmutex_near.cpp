// rwmutex_near: the near miss of rwmutex.cpp — the same reader, writer and
// timing, but the reader releases its read lock before reading again. Its
// second rlock() waits behind the writer, which now gets in, writes, and
// lets it through. Exit 0, silent.
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
    tether::FiberRef reader = tether::go(
        [config] {
          config->rlock();
          tether::sleep_for(100ms);
          config->runlock();  // released first
          config->rlock();
          config->runlock();
        },
        {.name = "reader"});
    tether::FiberRef writer = tether::go(
        [config] {
          tether::sleep_for(30ms);
          config->lock();
          config->unlock();
        },
        {.name = "writer"});
    reader.join();
    writer.join();
    std::printf("main: done\n");
    return 0;
  });
}
