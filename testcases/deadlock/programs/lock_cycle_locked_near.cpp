// lock_cycle_locked_near: the near miss of lock_cycle_locked.cpp — the same
// locked "render" and pool "loader", both taking scene before textures.
// Exit 0, silent.
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
    tether::FiberRef render = tether::ThreadLocker::make("gl").go(
        [scene, textures] {
          scene->lock();
          tether::sleep_for(50ms);
          textures->lock();
          textures->unlock();
          scene->unlock();
        },
        {.name = "render"});
    tether::FiberRef loader = tether::go(
        [scene, textures] {
          scene->lock();  // the same order as "render"
          tether::sleep_for(50ms);
          textures->lock();
          textures->unlock();
          scene->unlock();
        },
        {.name = "loader"});
    render.join();
    loader.join();
    std::printf("main: done\n");
    return 0;
  });
}
