// plain_lock_call: a plain std::thread holds a tether::Mutex and calls into a
// locker a function that needs the same mutex.
//
// The plain thread (a std::thread, not a fiber) locks "state", then runs a
// function on thread "gl" with ThreadLocker::call() that locks "state" too.
// The call's fiber waits for "state"; "state" is held by the plain thread;
// the plain thread waits in call() for the call's fiber. A plain thread
// holding a lock normally counts as able to release it; this one cannot
// until its call returns. main sleeps a second and returns (the plain thread
// is detached: it never comes back). Exit 0.
// Near miss: plain_lock_call_near.cpp (the lock released before the call).
#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <thread>

#include "tether/mutex.h"
#include "tether/runtime.h"
#include "tether/thread_locker.h"
#include "tether/timer.h"

using namespace std::chrono_literals;

int main() {
  return tether::run([] {
    auto gl = tether::ThreadLocker::make("gl");
    auto state = std::make_shared<tether::Mutex>("state");
    std::thread plain([gl, state]() mutable {
      state->lock();
      gl.call([&] { std::scoped_lock l(*state); });  // BUG: needs "state", held by this thread
      state->unlock();
    });
    tether::sleep_for(1s);
    plain.detach();  // in call() for good
    std::printf("main: done\n");
    return 0;
  });
}
