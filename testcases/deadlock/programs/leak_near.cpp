// leak_near: the near miss of leak.cpp — main closes the channel, which ends
// the listener's loop, and joins it before returning. Exit 0, silent.
#include <cstdio>

#include "tether/chan.h"
#include "tether/fiber.h"
#include "tether/runtime.h"

int main() {
  return tether::run([] {
    tether::Chan<int> events(0, "events");
    tether::Chan<int> handled(0, "handled");  // so main knows the event was printed
    tether::FiberRef listener = tether::go(
        [events, handled]() mutable {
          for (int e : events) {
            std::printf("listener: event %d\n", e);
            handled.send(e);
          }
        },
        {.name = "listener"});
    events.send(1);
    handled.recv();
    events.close();
    listener.join();
    return 0;
  });
}
