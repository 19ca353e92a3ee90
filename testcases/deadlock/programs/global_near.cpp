// global_near: the near miss of global.cpp — same worker, same channels.
//
// main waits for exactly as many results as it sent jobs, then closes the job
// channel, which ends the worker's range loop. Both fibers are blocked on
// each other for a moment at every hand-off; none of those moments is a
// deadlock and tether must stay silent. Exit 0.
#include <cstdio>

#include "tether/chan.h"
#include "tether/runtime.h"

int main() {
  return tether::run([] {
    tether::Chan<int> jobs(0, "jobs");
    tether::Chan<int> results(2, "results");  // room for every result
    tether::FiberRef worker = tether::go([jobs, results]() mutable {
      for (int job : jobs) results.send(job * job);
    });
    jobs.send(2);
    jobs.send(3);
    int sum = 0;
    for (int i = 0; i < 2; ++i) sum += *results.recv();
    jobs.close();
    worker.join();
    std::printf("sum %d\n", sum);
    return sum == 13 ? 0 : 1;
  });
}
