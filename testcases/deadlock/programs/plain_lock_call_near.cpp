// plain_lock_call_near: the near miss of plain_lock_call.cpp.
//
// The plain thread holds "state" for 300 ms (three watchdog periods) while a
// fiber on "gl" waits for it: the holder is a plain thread that is not in
// call(), so it can still release "state", and it does. Then it calls into
// gl a function that needs "state" (free by now). Silent; exit 0.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <thread>

#include "tether/chan.h"
#include "tether/fiber.h"
#include "tether/mutex.h"
#include "tether/runtime.h"
#include "tether/thread_locker.h"
#include "tether/timer.h"

using namespace std::chrono_literals;

int main() {
  return tether::run([] {
    auto gl = tether::ThreadLocker::make("gl");
    auto state = std::make_shared<tether::Mutex>("state");
    auto locked = std::make_shared<std::atomic<bool>>(false);
    tether::Chan<int> stop(0, "stop");
    auto keep = gl.go([stop]() mutable { stop.recv(); });  // keeps gl alive for the call
    std::thread plain([gl, state, locked]() mutable {
      state->lock();
      *locked = true;
      std::this_thread::sleep_for(300ms);  // holds it outside call(): "waiter" waits meanwhile
      state->unlock();                     // the fix: released before the call that needs it
      gl.call([&] { std::scoped_lock l(*state); });
    });
    auto waiter = gl.go(
        [state, locked] {
          while (!*locked) tether::sleep_for(1ms);
          std::scoped_lock l(*state);
        },
        {.name = "waiter"});
    waiter.join();
    plain.join();
    stop.send(1);
    keep.join();
    std::printf("main: done\n");
    return 0;
  });
}
