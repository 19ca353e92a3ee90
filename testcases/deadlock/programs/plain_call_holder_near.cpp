// plain_call_holder_near: the near miss of plain_call_holder.cpp — the plain
// thread sends the go-ahead before its call. "holder" unlocks "state", the
// call gets it, and everything completes. Exit 0, silent.
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
    tether::Chan<int> stop(0, "stop");
    auto keep = gl.go([stop]() mutable { stop.recv(); }, {.name = "keep"});  // gl outlives holder
    std::thread plain;
    int got = 0;
    tether::FiberRef holder;
    tether::go(
        [&] {
          tether::Chan<int> sig(0, "sig");
          holder = gl.go(
              [state, sig]() mutable {
                state->lock();
                sig.send(1);  // "state" is held now
                sig.recv();   // the go-ahead
                state->unlock();
              },
              {.name = "holder"});
          plain = std::thread([gl, state, sig, &got]() mutable {
            sig.recv();
            sig.send(2);  // the go-ahead first ...
            got = gl.call([&] {  // ... then the call
              std::scoped_lock l(*state);
              return 3;
            });
          });
        },
        {.name = "setup"})
        .join();
    holder.join();
    plain.join();
    stop.send(0);
    keep.join();
    std::printf("main: got %d\n", got);
    return got == 3 ? 0 : 1;
  });
}
