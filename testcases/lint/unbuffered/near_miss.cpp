// Near misses of tether-unbuffered-self-deadlock: none may be reported.
#include <optional>

#include "tether/chan.h"
#include "tether/runtime.h"
#include "tether/select.h"

// A buffer of one lets a fiber send to itself and receive it back.
int buffered() {
  tether::Chan<int> ch(1, "ch");
  ch.send(1);
  return *ch.recv();
}

// Another fiber takes the value.
int other_fiber() {
  tether::Chan<int> ch(0, "ch");
  tether::go([&] { ch.send(1); });
  return *ch.recv();
}

// The channel goes to code we cannot see.
void hand_over(tether::Chan<int> c);
void escapes() {
  tether::Chan<int> ch(0, "ch");
  hand_over(ch);
  ch.send(1);
  (void)ch.recv();
}

// Non-blocking attempts and select with a default case.
void nonblocking() {
  tether::Chan<int> ch(0, "ch");
  (void)ch.try_send(1);
  (void)ch.try_recv();
  tether::select(tether::recv(ch, [](std::optional<int>) {}), tether::otherwise([] {}));
}

// The sender runs many times (a fiber per request), the receiver once.
void many_senders() {
  tether::Chan<int> ch(0, "ch");
  for (int i = 0; i < 3; ++i) tether::go([&] { ch.send(1); });
  for (int i = 0; i < 3; ++i) (void)ch.recv();
}

int main() {
  return tether::run([] {
    escapes();
    nonblocking();
    many_senders();
    return buffered() + other_fiber();
  });
}
