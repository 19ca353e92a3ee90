// self_request_near: the near miss of self_request.cpp — the same locked
// server, request queue and client, but the server computes the smaller
// triangle numbers inline instead of sending itself a request. The client
// waits on its reply while the server works: a wait, not a deadlock. The
// client closes the queue, which ends the server. Exit 0, silent.
#include <cstdio>

#include "tether/chan.h"
#include "tether/fiber.h"
#include "tether/runtime.h"
#include "tether/thread_locker.h"

struct Request {
  int n;
  tether::Chan<long> reply;
};

long triangle(int n) {
  return n <= 1 ? n : n + triangle(n - 1);
}

int main() {
  return tether::run([] {
    long result = 0;
    tether::FiberRef client = tether::go(
        [&result] {
          tether::Chan<Request> requests(0, "requests");
          tether::FiberRef server = tether::ThreadLocker::make("server").go(
              [requests]() mutable {
                for (Request& r : requests) r.reply.send(triangle(r.n));  // inline, no self-request
              },
              {.name = "server"});
          tether::Chan<long> reply(0, "reply");
          requests.send({4, reply});
          result = *reply.recv();
          requests.close();
          server.join();
        },
        {.name = "client"});
    client.join();
    std::printf("triangle(4) = %ld\n", result);
    return result == 10 ? 0 : 1;
  });
}
