// condvar_near: the near miss of condvar.cpp — the same pipeline, but the
// producer signals after setting the flag. The consumer waits ~100 ms while
// the producer sleeps: not a deadlock. Exit 0, silent.
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
    tether::FiberRef consumer, producer;
    tether::FiberRef pipeline = tether::go(
        [&consumer, &producer] {
          auto s = std::make_shared<State>();
          consumer = tether::go(
              [s] {
                s->mu.lock();
                while (!s->flag) s->ready.wait(s->mu);
                s->mu.unlock();
                std::printf("consumer: ready\n");
              },
              {.name = "consumer"});
          producer = tether::go(
              [s] {
                tether::sleep_for(100ms);
                s->mu.lock();
                s->flag = true;
                s->ready.signal();
                s->mu.unlock();
              },
              {.name = "producer"});
        },
        {.name = "pipeline"});
    pipeline.join();
    consumer.join();
    producer.join();
    return 0;
  });
}
