// A randomized workload that always completes, for scripts/soak.sh.
//
//   soak SECONDS [SEED]
//
// Runs rounds until SECONDS have passed; each round picks one scenario at
// random and checks its result: a three-stage pipeline, fan-in over select,
// a worker pool over buffered channels with a WaitGroup, Mutex and RWMutex
// contention, fibers sharing a ThreadLocker with call() from the pool, pipe
// I/O through tether::sys between the pool and a locked thread, timeouts in
// select and sleeps. None of them can deadlock, so under `tether run` any
// detector report is a false positive. Prints "soak: N rounds ok" at the end,
// or what went wrong (status 1).
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "tether/chan.h"
#include "tether/fiber.h"
#include "tether/mutex.h"
#include "tether/runtime.h"
#include "tether/rw_mutex.h"
#include "tether/select.h"
#include "tether/sys.h"
#include "tether/thread_locker.h"
#include "tether/timer.h"
#include "tether/wait_group.h"

using namespace std::chrono_literals;

namespace {

[[noreturn]] void fail(const std::string& what) {
  std::printf("soak: FAILED: %s\n", what.c_str());
  std::fflush(stdout);
  std::exit(1);
}

void pipeline(std::mt19937& rng) {
  const long n = 1 + rng() % 2000;
  tether::Chan<long> a(rng() % 3), b(rng() % 3);
  auto s1 = tether::go([&] {
    for (long i = 1; i <= n; ++i) a.send(i);
    a.close();
  });
  auto s2 = tether::go([&] {
    for (long v : a) b.send(v * 3);
    b.close();
  });
  long sum = 0;
  for (long v : b) sum += v;
  s1.join();
  s2.join();
  if (sum != 3 * n * (n + 1) / 2) fail("pipeline sum");
}

void fan_in(std::mt19937& rng) {
  const int n = 1 + static_cast<int>(rng() % 500);
  std::vector<tether::Chan<int>> in;
  std::vector<tether::FiberRef> fs;
  for (int k = 0; k < 3; ++k) in.emplace_back(rng() % 2);
  for (int k = 0; k < 3; ++k) {
    fs.push_back(tether::go([&, k] {
      for (int i = 0; i < n; ++i) in[k].send(1);
      in[k].close();
    }));
  }
  int got = 0;
  bool closed[3] = {false, false, false};
  for (int open = 3; open > 0;) {
    // Only the channels still open: a closed one is always ready, and
    // selecting it again would spin (a fiber that never blocks holds its
    // pool thread).
    std::vector<tether::Case> cases;
    for (int k = 0; k < 3; ++k) {
      if (closed[k]) continue;
      cases.push_back(tether::recv(in[k], [&, k](std::optional<int> v) {
        if (v) {
          got += *v;
        } else {
          closed[k] = true;
          --open;
        }
      }));
    }
    cases.push_back(tether::after(1s, [] { fail("fan-in stalled"); }));
    tether::select(cases);
  }
  for (auto& f : fs) f.join();
  if (got != 3 * n) fail("fan-in count");
}

void worker_pool(std::mt19937& rng) {
  const int jobs = 1 + static_cast<int>(rng() % 1000), workers = 1 + static_cast<int>(rng() % 8);
  tether::Chan<int> q(16), results(16);
  tether::WaitGroup wg;
  wg.add(workers);
  for (int w = 0; w < workers; ++w) {
    tether::go([&] {
      for (int j : q) results.send(j % 7);
      wg.done();
    });
  }
  auto closer = tether::go([&] {
    wg.wait();
    results.close();
  });
  auto feeder = tether::go([&] {
    for (int j = 0; j < jobs; ++j) q.send(j);
    q.close();
  });
  long sum = 0, want = 0;
  for (int j = 0; j < jobs; ++j) want += j % 7;
  for (int r : results) sum += r;
  feeder.join();
  closer.join();
  if (sum != want) fail("worker pool sum");
}

void locks(std::mt19937& rng) {
  const int fibers = 2 + static_cast<int>(rng() % 16), iters = 1 + static_cast<int>(rng() % 300);
  tether::Mutex m;
  tether::RWMutex rw;
  long counter = 0, shadow = 0;
  std::vector<tether::FiberRef> fs;
  for (int f = 0; f < fibers; ++f) {
    fs.push_back(tether::go([&, f] {
      for (int i = 0; i < iters; ++i) {
        if (f % 3 == 0) {
          rw.rlock();
          if (shadow > counter) fail("rwmutex reader saw a torn update");
          rw.runlock();
        } else {
          rw.lock();
          m.lock();
          ++counter;
          if (i % 16 == 0) tether::this_fiber::yield();
          ++shadow;
          m.unlock();
          rw.unlock();
        }
      }
    }));
  }
  for (auto& f : fs) f.join();
  long writers = 0;
  for (int f = 0; f < fibers; ++f) writers += f % 3 != 0;
  if (counter != writers * iters || shadow != counter) fail("lock counter");
}

void locker(std::mt19937& rng) {
  auto gl = tether::ThreadLocker::make("soak-gl");
  // Keeps the locker alive (a locker with no locked fiber left is finished,
  // and call() on it raises) until the callers are done.
  tether::Chan<int> release(0);
  auto anchor = gl.go([&] { release.recv(); });
  const int n = 1 + static_cast<int>(rng() % 300);
  tether::Chan<int> ping(0), pong(0);
  auto server = gl.go([&] {
    for (int v : ping) pong.send(v + 1);
  });
  long local = 0;  // touched only on gl's thread
  auto client = gl.go([&] {
    for (int i = 0; i < n; ++i) {
      ping.send(i);
      local += *pong.recv() - i;
    }
    ping.close();
  });
  std::vector<tether::FiberRef> callers;
  std::atomic<long> calls{0};
  for (int c = 0; c < 3; ++c) {
    callers.push_back(tether::go([&] {
      for (int i = 0; i < 20; ++i) calls += gl.call([] { return 1; });
    }));
  }
  for (auto& c : callers) c.join();
  release.close();
  anchor.join();
  client.join();
  server.join();
  if (local != n || calls != 60) fail("locker round trips");
}

void pipe_io(std::mt19937& rng) {
  int fds[2];
  if (tether::sys::pipe(fds) != 0) fail("pipe");
  auto io = tether::ThreadLocker::make("soak-io");
  const long n = 1 + static_cast<long>(rng() % 20000);
  long got = 0;
  auto reader = io.go([&] {
    char buf[512];
    for (;;) {
      const ssize_t r = tether::sys::read(fds[0], buf, sizeof buf);
      if (r <= 0) break;
      got += r;
    }
  });
  auto writer = tether::go([&] {
    std::vector<char> buf(1 + rng() % 4096, 'x');
    long left = n;
    while (left > 0) {
      const ssize_t w = tether::sys::write(
          fds[1], buf.data(),
          static_cast<std::size_t>(std::min<long>(left, static_cast<long>(buf.size()))));
      if (w <= 0) fail("pipe write");
      left -= w;
    }
    tether::sys::close(fds[1]);
  });
  writer.join();
  reader.join();
  tether::sys::close(fds[0]);
  if (got != n) fail("pipe bytes");
}

void timers(std::mt19937& rng) {
  tether::Chan<int> never(0), soon(1);
  int timeouts = 0;
  auto late = tether::go([&] {
    tether::sleep_for(std::chrono::microseconds(rng() % 2000));
    soon.send(1);
  });
  bool got = false;
  while (!got) {
    tether::select(tether::recv(never, [] { fail("recv on a channel nobody sends on"); }),
                   tether::recv(soon, [&] { got = true; }),
                   tether::after(300us, [&] { ++timeouts; }));
  }
  late.join();
  (void)timeouts;
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 600;
  const unsigned seed = argc > 2 ? static_cast<unsigned>(std::atoi(argv[2])) : 8;
  return tether::run([&] {
    std::mt19937 rng(seed);
    void (*const scenarios[])(std::mt19937&) = {pipeline, fan_in,  worker_pool, locks,
                                                locker,   pipe_io, timers};
    const auto start = std::chrono::steady_clock::now();
    long rounds = 0;
    while (std::chrono::steady_clock::now() - start < std::chrono::duration<double>(seconds)) {
      // Several scenarios at once: a scheduling mix no single one gives.
      const int parallel = 1 + static_cast<int>(rng() % 4);
      std::vector<tether::FiberRef> fs;
      for (int p = 0; p < parallel; ++p) {
        const unsigned pick = rng() % std::size(scenarios);
        const unsigned sub = rng();
        fs.push_back(tether::go([&scenarios, pick, sub] {
          std::mt19937 r(sub);
          scenarios[pick](r);
        }));
      }
      for (auto& f : fs) f.join();
      ++rounds;
    }
    std::printf("soak: %ld rounds ok\n", rounds);
    return 0;
  });
}
