// self_request: a locked "syscall server" that sends a request to itself.
//
// The server fiber, locked to the thread "server", handles requests from its
// unbuffered request channel one at a time. Computing triangle(n) needs
// triangle(n-1), and the server asks for it the way its clients do: it sends
// a request to its own queue and waits for the reply. Nobody else receives
// from that queue, and the only receiver is the server itself, which is busy
// sending: it waits for itself, and the client waits for the server.
// The client makes the queue and starts the server, so nothing outside the
// two can serve it. main sleeps a second and returns. Exit 0.
// Near miss: self_request_near.cpp (the sub-request is computed inline).
#include <chrono>
#include <cstdio>

#include "tether/chan.h"
#include "tether/fiber.h"
#include "tether/runtime.h"
#include "tether/thread_locker.h"
#include "tether/timer.h"

using namespace std::chrono_literals;

struct Request {
  int n;
  tether::Chan<long> reply;
};

int main() {
  return tether::run([] {
    tether::go(
        [] {
          tether::Chan<Request> requests(0, "requests");
          tether::ThreadLocker::make("server").go(
              [requests]() mutable {
                for (Request& r : requests) {
                  long sum = r.n;
                  if (r.n > 1) {
                    tether::Chan<long> sub(0, "sub-reply");
                    requests.send({r.n - 1, sub});  // BUG: only this fiber receives requests
                    sum += *sub.recv();
                  }
                  r.reply.send(sum);
                }
              },
              {.name = "server"});
          tether::Chan<long> reply(0, "reply");
          requests.send({4, reply});
          std::printf("triangle(4) = %ld\n", *reply.recv());
          requests.close();
        },
        {.name = "client"});
    tether::sleep_for(1s);
    std::printf("main: done\n");
    return 0;
  });
}
