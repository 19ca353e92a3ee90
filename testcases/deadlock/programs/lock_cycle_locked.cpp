// lock_cycle_locked: AB-BA between a fiber locked to a thread and a pool fiber.
//
// "render", locked to the thread "gl", locks scene then textures; the pool
// fiber "loader" locks textures then scene. Each sleeps holding its first
// lock, so each gets one and waits for the other's. The locked thread is not
// occupied (render is parked in lock(), not in a system call), so this is a
// plain lock cycle; gl's thread just sits idle. main sleeps and returns.
// Near miss: lock_cycle_locked_near.cpp (the same order on both sides).
#include <chrono>
#include <cstdio>
#include <memory>

#include "tether/fiber.h"
#include "tether/mutex.h"
#include "tether/runtime.h"
#include "tether/thread_locker.h"
#include "tether/timer.h"

using namespace std::chrono_literals;

int main() {
  return tether::run([] {
    auto scene = std::make_shared<tether::Mutex>("scene");
    auto textures = std::make_shared<tether::Mutex>("textures");
    tether::ThreadLocker::make("gl").go(
        [scene, textures] {
          scene->lock();
          tether::sleep_for(50ms);
          textures->lock();  // waits for "loader" forever
          textures->unlock();
          scene->unlock();
        },
        {.name = "render"});
    tether::go(
        [scene, textures] {
          textures->lock();
          tether::sleep_for(50ms);
          scene->lock();  // BUG: the opposite order
          scene->unlock();
          textures->unlock();
        },
        {.name = "loader"});
    tether::sleep_for(1s);
    std::printf("main: done\n");
    return 0;
  });
}
