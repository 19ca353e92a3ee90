// condvar: a condition variable that is never signalled.
//
// "consumer" waits on CondVar "ready" until the flag is set; "producer" sets
// the flag under the mutex but forgets to signal. The consumer went to sleep
// before the flag changed, so it never looks again. "pipeline", which made
// the mutex and the condition variable, has returned; once the producer has
// too, nothing that has the condition variable is left (an orphan wait).
// main sleeps a second and returns.
// Near miss: condvar_near.cpp (the producer signals).
#include <chrono>
#include <cstdio>
#include <memory>

#include "tether/cond_var.h"
#include "tether/fiber.h"
#include "tether/mutex.h"
#include "tether/runtime.h"
#include "tether/timer.h"

using namespace std::chrono_literals;

struct State {
  tether::Mutex mu{"state"};
  tether::CondVar ready{"ready"};
  bool flag = false;
};

int main() {
  return tether::run([] {
    tether::go(
        [] {
          auto s = std::make_shared<State>();
          tether::go(
              [s] {
                s->mu.lock();
                while (!s->flag) s->ready.wait(s->mu);
                s->mu.unlock();
                std::printf("consumer: ready\n");
              },
              {.name = "consumer"});
          tether::go(
              [s] {
                tether::sleep_for(100ms);  // the consumer is waiting by now
                s->mu.lock();
                s->flag = true;
                s->mu.unlock();  // BUG: no s->ready.signal()
              },
              {.name = "producer"});
        },
        {.name = "pipeline"});
    tether::sleep_for(1s);
    std::printf("main: done\n");
    return 0;
  });
}
