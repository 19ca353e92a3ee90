// preload mutex: the library's lock (a plain pthread mutex) taken by two
// fibers locked to the same thread.
//
// "holder" takes the lock and, still holding it, sleeps (a tether sleep: it
// parks, and thread "io" runs "taker"). "taker" asks for the same lock: the
// pthread_mutex_lock blocks the OS thread, so "holder" can never run again
// to unlock it. glibc records the owner's thread id in the mutex: it is "io"
// itself, so only a fiber of "io" can be the holder, and none can run.
// main sleeps a second and returns. Exit 0 (66 under `tether run`).
// Near miss: mutex_near.cpp.
#include <chrono>
#include <cstdio>
#include <memory>

#include "blocking.h"
#include "tether/runtime.h"
#include "tether/thread_locker.h"
#include "tether/timer.h"
#include "tether/wait_group.h"

using namespace std::chrono_literals;

int main() {
  return tether::run([] {
    tether::ThreadLocker io = tether::ThreadLocker::make("io");
    auto locked = std::make_shared<tether::WaitGroup>();
    locked->add(1);
    io.go(
        [locked] {
          blk_lock();
          locked->done();
          tether::sleep_for(100ms);  // BUG: parks holding a thread-blocking lock
          blk_unlock();
        },
        {.name = "holder"});
    io.go(
        [locked] {
          locked->wait();
          blk_lock();  // blocks thread "io"
        },
        {.name = "taker"});
    tether::sleep_for(1s);
    std::printf("main: done\n");
    return 0;
  });
}
