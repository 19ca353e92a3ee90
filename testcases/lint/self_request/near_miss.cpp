// Near misses of tether-self-request: none may be reported.
#include <optional>

#include "tether/chan.h"
#include "tether/runtime.h"
#include "tether/thread_locker.h"

// The server forwards to a different channel that another fiber serves.
void forwards_elsewhere() {
  tether::Chan<int> requests(0, "requests");
  tether::Chan<int> audit(0, "audit");
  tether::go([&] {
    tether::lock_os_thread();
    for (int r : requests) audit.send(r);
  });
  tether::go([&] {
    while (auto a = audit.recv()) {
    }
  });
  tether::go([&] { requests.send(1); });
}

// Several server fibers share the queue: another one takes the request.
void server_pool() {
  tether::Chan<int> work(0, "work");
  for (int i = 0; i < 4; ++i) {
    tether::go([&] {
      for (int w : work)
        if (w > 1) work.send(w - 1);
    });
  }
  tether::go([&] { work.send(3); });
}

// A buffered queue the server appends to without waiting for anything.
void requeue_without_waiting() {
  tether::Chan<int> tasks(8, "tasks");
  auto gl = tether::ThreadLocker::make("gl");
  gl.go([&] {
    while (auto t = tasks.recv())
      if (*t > 0) tasks.send(*t - 1);
  });
  tether::go([&] { tasks.send(3); });
}

// call() on the locker the fiber already runs on runs the function inline
// (thread_locker.h), and the request goes to another locker's fiber.
void call_on_own_and_other_locker() {
  tether::Chan<int> req(0, "req");
  tether::Chan<int> rep(0, "rep");
  auto gl = tether::ThreadLocker::make("gl2");
  auto io = tether::ThreadLocker::make("io");
  io.go([&] {
    for (int r : req) rep.send(r + 1);
  });
  gl.go([&] {
    gl.call([] { return 1; });
    req.send(1);
    (void)rep.recv();
  });
}

// The channel is handed to code we cannot see: another receiver may exist.
void register_queue(tether::Chan<int>& q);
void escapes() {
  tether::Chan<int> q(0, "q");
  register_queue(q);
  tether::go([&] {
    for (int v : q)
      if (v) q.send(0);
  });
}

int main() {
  return tether::run([] {
    forwards_elsewhere();
    server_pool();
    requeue_without_waiting();
    call_on_own_and_other_locker();
    escapes();
    return 0;
  });
}
