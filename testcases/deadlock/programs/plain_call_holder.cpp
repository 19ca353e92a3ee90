// plain_call_holder: a plain std::thread calls into a locker whose fiber holds
// the lock the call needs, and that fiber waits for the plain thread.
//
// "holder", locked to thread "gl", locks "state", tells the plain thread so on
// the unbuffered channel "sig", then waits on "sig" for its go-ahead. The
// plain thread (a std::thread, not a fiber) receives, then runs a function
// on "gl" with ThreadLocker::call() that needs "state", and sends the
// go-ahead only after the call returns. The call's fiber waits for holder,
// holder for the plain thread, the plain thread (in call()) for the call's
// fiber. A setup fiber makes "sig" and ends, so no other fiber can have it;
// the plain thread used "sig", but it is stuck in call(): nothing outside
// can break the cycle. main sleeps a second and returns (the plain thread
// is detached: it never comes back). Exit 0.
// Near miss: plain_call_holder_near.cpp (the go-ahead before the call).
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
    std::thread plain;
    tether::go(
        [&] {
          tether::Chan<int> sig(0, "sig");
          gl.go(
              [state, sig]() mutable {
                state->lock();
                sig.send(1);  // "state" is held now
                sig.recv();   // waits for the go-ahead forever
                state->unlock();
              },
              {.name = "holder"});
          plain = std::thread([gl, state, sig]() mutable {
            sig.recv();
            gl.call([&] { std::scoped_lock l(*state); });  // needs "state": waits for holder
            sig.send(2);  // BUG: the go-ahead only after the call
          });
        },
        {.name = "setup"})
        .join();
    tether::sleep_for(1s);
    plain.detach();  // in call() for good
    std::printf("main: done\n");
    return 0;
  });
}
