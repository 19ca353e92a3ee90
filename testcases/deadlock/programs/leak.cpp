// leak: a fiber still blocked when main returns.
//
// main starts "listener", which handles events until the channel is closed,
// sends it one event, waits until it was handled, and returns without
// closing the channel. Not a deadlock while the program runs (main could
// still close it); at exit the listener is abandoned, blocked for good.
// Under `tether run` (or with TETHER_LEAKS=1) tether lists it with its wait
// state and site.
// Near miss: leak_near.cpp (main closes the channel and joins the listener).
#include <cstdio>

#include "tether/chan.h"
#include "tether/fiber.h"
#include "tether/runtime.h"

int main() {
  return tether::run([] {
    tether::Chan<int> events(0, "events");
    tether::Chan<int> handled(0, "handled");  // so main knows the event was printed
    tether::go(
        [events, handled]() mutable {
          for (int e : events) {
            std::printf("listener: event %d\n", e);
            handled.send(e);
          }
        },
        {.name = "listener"});
    events.send(1);
    handled.recv();
    return 0;  // BUG: events is never closed; the listener waits forever
  });
}
