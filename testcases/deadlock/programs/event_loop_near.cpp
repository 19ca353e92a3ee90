// event_loop_near: the near miss of event_loop.cpp — the same server,
// interpreter and requests, but the event loop is a fiber of its own, locked
// to the same "ptrace" thread as the server (the N:1 locking tether adds).
// While the event loop waits for the interpreter, the server goes on serving
// the interpreter's memory reads on the same thread. Exit 0, silent.
#include <cstdio>

#include "tether/chan.h"
#include "tether/fiber.h"
#include "tether/runtime.h"
#include "tether/thread_locker.h"

struct Request {
  bool resume;
  long addr;
  tether::Chan<long> reply;
};

int main() {
  return tether::run([] {
    long result = 0;
    tether::FiberRef debugger = tether::go(
        [&result] {
          tether::Chan<Request> requests(0, "requests"), resumes(0, "resumes");
          tether::Chan<long> eval(0, "eval"), eval_result(0, "eval-result");
          tether::ThreadLocker ptrace = tether::ThreadLocker::make("ptrace");
          tether::FiberRef server = ptrace.go(
              [=]() mutable {
                for (Request& r : requests) {
                  if (r.resume)
                    resumes.send(std::move(r));  // hand over, keep serving
                  else
                    r.reply.send(r.addr * 2);
                }
                resumes.close();
              },
              {.name = "server"});
          tether::FiberRef loop = ptrace.go(
              [=]() mutable {
                for (Request& r : resumes) {
                  eval.send(r.addr);
                  r.reply.send(*eval_result.recv());
                }
                eval.close();
              },
              {.name = "event-loop"});
          tether::FiberRef interp = tether::go(
              [=]() mutable {
                for (long addr : eval) {
                  tether::Chan<long> mem(0, "mem");
                  requests.send({false, addr, mem});
                  eval_result.send(*mem.recv() + 1);
                }
              },
              {.name = "interpreter"});
          tether::Chan<long> reply(0, "reply");
          requests.send({true, 20, reply});
          result = *reply.recv();
          requests.close();
          server.join();
          loop.join();
          interp.join();
        },
        {.name = "debugger"});
    debugger.join();
    std::printf("result %ld\n", result);
    return result == 41 ? 0 : 1;
  });
}
