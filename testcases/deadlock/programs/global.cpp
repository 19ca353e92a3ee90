// global: every fiber is blocked and nothing can wake any of them.
//
// main hands two jobs to a worker and then waits for three results. The
// worker answers both jobs and waits for a third job; main waits for a third
// result. Each waits for the other, nothing sleeps, nothing is in a system
// call: "fatal error: all fibers are asleep - deadlock!" and exit status 2,
// as Go does. Near miss: global_near.cpp (main waits for as many results as
// it sent jobs, then closes the job channel).
#include <cstdio>

#include "tether/chan.h"
#include "tether/runtime.h"

int main() {
  return tether::run([] {
    tether::Chan<int> jobs(0, "jobs");
    tether::Chan<int> results(2, "results");  // room for every result
    tether::go([jobs, results]() mutable {
      for (int job : jobs) results.send(job * job);  // waits for a third job forever
    });
    jobs.send(2);
    jobs.send(3);
    int sum = 0;
    for (int i = 0; i < 3; ++i) sum += *results.recv();  // BUG: only two jobs were sent
    std::printf("sum %d\n", sum);
    return 0;
  });
}
