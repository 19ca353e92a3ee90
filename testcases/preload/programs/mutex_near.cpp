// preload mutex_near: the near miss of mutex.cpp. "holder" is a pool fiber:
// while "taker" blocks thread "io" in pthread_mutex_lock, the holder sleeps
// 300 ms on the pool and unlocks. The owner recorded in the mutex is a pool
// thread, not "io". Completes; silent.
#include <chrono>
#include <cstdio>

#include "blocking.h"
#include "tether/fiber.h"
#include "tether/runtime.h"
#include "tether/thread_locker.h"
#include "tether/timer.h"
#include "tether/wait_group.h"

using namespace std::chrono_literals;

int main() {
  return tether::run([] {
    tether::ThreadLocker io = tether::ThreadLocker::make("io");
    tether::WaitGroup locked;
    locked.add(1);
    tether::FiberRef holder = tether::go(
        [&locked] {
          tether::lock_os_thread();  // a pthread mutex is unlocked by the thread that locked it
          blk_lock();
          locked.done();
          tether::sleep_for(300ms);
          blk_unlock();
          tether::unlock_os_thread();
        },
        {.name = "holder"});
    locked.wait();
    tether::FiberRef taker = io.go(
        [] {
          blk_lock();  // blocks thread "io" until the holder unlocks
          blk_unlock();
        },
        {.name = "taker"});
    taker.join();
    holder.join();
    std::printf("main: done\n");
    return 0;
  });
}
