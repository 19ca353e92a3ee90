// tether-self-request: a fiber that is the only receiver of a channel sends a
// request to that channel and waits: nobody else will ever take it.
#include <optional>
#include <string>

#include "tether/chan.h"
#include "tether/runtime.h"
#include "tether/thread_locker.h"

// Case 1: Go's "syscall server" with LockOSThread, asking itself for a retry
// on an unbuffered queue.
void os_locked_server() {
  tether::Chan<int> requests(0, "requests");
  tether::Chan<int> replies(0, "replies");
  tether::go([&] {
    tether::lock_os_thread();
    for (int r : requests) {
      if (r < 0) requests.send(-r);  // expect-warning: tether-self-request
      replies.send(r * 2);
    }
  });
  tether::go([&] {
    requests.send(1);
    (void)replies.recv();
  });
}

// Case 2: a buffered job queue served by a fiber on a locker; a helper it
// calls re-submits a job and waits for the result.
tether::Chan<int> jobs(16, "jobs");
tether::Chan<int> results(16, "results");
static void resubmit(int j) {
  jobs.send(j + 1);  // expect-warning: tether-self-request
  (void)results.recv();
}
void locker_job_server() {
  auto gl = tether::ThreadLocker::make("gl");
  gl.go([] {
    while (auto j = jobs.recv()) {
      if (*j % 2) resubmit(*j);
      results.send(*j);
    }
  });
  tether::go([] {
    jobs.send(1);
    (void)results.recv();
  });
}

// Case 3: the request is sent from a lambda the server calls.
void gui_commands() {
  tether::Chan<std::string> cmds(0, "cmds");
  auto gui = tether::ThreadLocker::make("gui");
  gui.go([&] {
    auto handle = [&](const std::string& c) {
      if (c == "reload") cmds.send("refresh");  // expect-warning: tether-self-request
    };
    while (auto c = cmds.recv()) handle(*c);
  });
  tether::go([&] { cmds.send("reload"); });
}

// Case 4: a member channel served by a method run as a fiber.
class Cache {
 public:
  void serve() {
    while (auto k = lookups_.recv()) {
      if (*k > 100) {
        lookups_.send(*k / 2);  // expect-warning: tether-self-request
        (void)answers_.recv();
      }
      answers_.send(*k);
    }
  }
  void start() {
    tether::go([this] { serve(); });
  }
  int get(int k) {
    lookups_.send(k);
    return *answers_.recv();
  }

 private:
  tether::Chan<int> lookups_{4, "lookups"};
  tether::Chan<int> answers_{4, "answers"};
};

int main() {
  Cache cache;
  return tether::run([&] {
    os_locked_server();
    locker_job_server();
    gui_commands();
    cache.start();
    // Case 5: fiber 1 serves its own queue and asks itself.
    tether::Chan<int> q(0, "q");
    tether::go([&] { q.send(1); });
    for (int v : q) {
      if (v == 1) q.send(2);  // expect-warning: tether-self-request
    }
    return cache.get(1);
  });
}
