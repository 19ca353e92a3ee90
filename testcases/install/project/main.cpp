// A tiny program built against an installed tether: three fibers locked to
// one thread, one pool fiber, a channel. Prints "sum 6 on one thread".
#include <sys/syscall.h>
#include <tether/tether.h>
#include <unistd.h>

#include <cstdio>
#include <set>

int main() {
  return tether::run([] {
    auto t = tether::ThreadLocker::make("worker");
    tether::Chan<int> results(0, "results");
    std::set<int> tids;
    for (int i = 1; i <= 3; ++i) {
      t.go([&tids, &results, i] {
        tids.insert(static_cast<int>(::syscall(SYS_gettid)));
        results.send(i);
      });
    }
    int sum = 0;
    for (int i = 0; i < 3; ++i) sum += *results.recv();
    std::printf("sum %d on %s\n", sum, tids.size() == 1 ? "one thread" : "several threads");
    return sum == 6 && tids.size() == 1 ? 0 : 1;
  });
}
