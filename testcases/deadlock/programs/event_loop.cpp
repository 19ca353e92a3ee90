// event_loop: the Delve call-injection case from the Go proposal review.
//
// A debugger's "syscall server" owns the ptrace thread and serves requests
// (read memory, resume). Run the event loop inside it, as Delve tried, and a
// resume blocks the server in the event loop until the expression
// interpreter has evaluated the injected call — but the interpreter needs a
// memory read from the server to do so: server -> chan "eval-result" ->
// interpreter -> chan "requests" -> server. ("I have experimented with running
// the event loop entirely inside the LockOSThread goroutine ... otherwise it
// will deadlock when it needs to communicate with it.") main sleeps, returns.
// Near miss: event_loop_near.cpp (the event loop is its own fiber on the
// same thread, which N:1 locking allows).
#include <chrono>
#include <cstdio>

#include "tether/chan.h"
#include "tether/fiber.h"
#include "tether/runtime.h"
#include "tether/thread_locker.h"
#include "tether/timer.h"

using namespace std::chrono_literals;

struct Request {
  bool resume;  // false: read memory at addr
  long addr;
  tether::Chan<long> reply;
};

int main() {
  return tether::run([] {
    tether::go(
        [] {
          tether::Chan<Request> requests(0, "requests");
          tether::Chan<long> eval(0, "eval"), eval_result(0, "eval-result");
          tether::ThreadLocker::make("ptrace").go(
              [=]() mutable {
                for (Request& r : requests) {
                  if (!r.resume) {
                    r.reply.send(r.addr * 2);  // "memory"
                    continue;
                  }
                  eval.send(r.addr);  // BUG: the event loop runs inside the server ...
                  r.reply.send(*eval_result.recv());  // ... and stops serving requests
                }
              },
              {.name = "server"});
          tether::go(
              [=]() mutable {
                for (long addr : eval) {
                  tether::Chan<long> mem(0, "mem");
                  requests.send({false, addr, mem});  // needs the server
                  eval_result.send(*mem.recv() + 1);
                }
              },
              {.name = "interpreter"});
          tether::Chan<long> reply(0, "reply");
          requests.send({true, 20, reply});  // "call f(x) + i"
          std::printf("result %ld\n", *reply.recv());
        },
        {.name = "debugger"});
    tether::sleep_for(1s);
    std::printf("main: done\n");
    return 0;
  });
}
