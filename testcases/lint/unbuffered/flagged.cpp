// tether-unbuffered-self-deadlock: one fiber both sends and receives on an
// unbuffered channel that nobody else uses; its first operation never ends.
#include <optional>

#include "tether/chan.h"
#include "tether/runtime.h"
#include "tether/thread_locker.h"

// Case 1: send, then receive, in one function.
int send_then_recv() {
  tether::Chan<int> ch(0, "ch");
  ch.send(1);  // expect-warning: tether-unbuffered-self-deadlock
  return *ch.recv();
}

// Case 2: receive first (the default capacity is 0).
void recv_then_send() {
  tether::Chan<int> ch;
  auto v = ch.recv();  // expect-warning: tether-unbuffered-self-deadlock
  ch.send(v.value_or(0));
}

// Case 3: a channel shared by nobody but one fiber on a locker.
void one_fiber_only() {
  tether::Chan<int> done(0, "done");
  auto gl = tether::ThreadLocker::make("gl");
  gl.go([&] {
    done.send(1);  // expect-warning: tether-unbuffered-self-deadlock
    (void)done.recv();
  });
}

// Case 4: fiber 1 ranges over a channel it also feeds, through a helper.
tether::Chan<int> events(0, "events");
static void emit(int e) { events.send(e); }  // expect-warning: tether-unbuffered-self-deadlock

int main() {
  return tether::run([] {
    one_fiber_only();
    emit(1);
    for (int e : events) {
      if (e > 3) break;
    }
    return send_then_recv();
  });
}
