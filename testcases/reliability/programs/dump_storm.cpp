// A busy program that receives a storm of SIGUSR1 dump requests, for
// check_dump_storm.py.
//
//   dump_storm [SIGNALS]      (default 1000)
//
// Fourteen fibers stay alive for the whole storm:
//   fiber 1 (main), waiting in join;
//   4 request/reply pairs on the pool (the client checks every reply);
//   on thread "gl": a producer and a consumer over a buffered channel, and a
//     fiber that takes a Mutex the two others take too (yielding inside);
//   on thread "io": a reader blocked in tether::sys::read on a pipe, fed by a
//     writer fiber on the pool (one byte per millisecond): a fiber in a
//     system call on a locked thread.
// A plain thread sends SIGUSR1 to the process SIGNALS times, 0-2 ms apart;
// the signal lands on any thread (pool, locked, the one in read(), the
// monitor). The runtime coalesces requests that arrive while a dump is being
// written; each dump it writes must be complete. After the storm the program
// waits until the dump file (/tmp/tether-PID.dump) has not changed for 2 s
// (so no dump is cut short by the exit), stops the workload and checks its
// own results, printing "dump_storm: fibers 14" and "dump_storm: result ok"
// (or what went wrong, exit 1) on stdout.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tether/chan.h"
#include "tether/fiber.h"
#include "tether/mutex.h"
#include "tether/runtime.h"
#include "tether/sys.h"
#include "tether/thread_locker.h"
#include "tether/timer.h"

using namespace std::chrono_literals;

namespace {

constexpr int kPairs = 4;
constexpr int kFibers = 1 + 2 * kPairs + 3 + 2;

std::int64_t mtime_ns(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return -1;
  return st.st_mtim.tv_sec * 1'000'000'000LL + st.st_mtim.tv_nsec;
}

}  // namespace

int main(int argc, char** argv) {
  const int signals = argc > 1 ? std::atoi(argv[1]) : 1000;
  const std::string dump_file = "/tmp/tether-" + std::to_string(getpid()) + ".dump";
  ::unlink(dump_file.c_str());
  return tether::run([&] {
    std::atomic<bool> stop{false};
    std::atomic<long> bad_replies{0}, rounds{0};
    std::vector<tether::FiberRef> fibers;

    // Request/reply pairs on the pool.
    for (int p = 0; p < kPairs; ++p) {
      tether::Chan<long> req(0), rep(0);
      fibers.push_back(tether::go([req, rep]() mutable {
        while (auto v = req.recv()) rep.send(*v * 2);
      }));
      fibers.push_back(tether::go([req, rep, &stop, &bad_replies, &rounds]() mutable {
        for (long i = 1; !stop.load(); ++i) {
          req.send(i);
          if (rep.recv() != i * 2) bad_replies.fetch_add(1);
          rounds.fetch_add(1);
        }
        req.close();
      }));
    }

    // Three fibers sharing thread "gl".
    auto gl = tether::ThreadLocker::make("gl");
    tether::Chan<long> items(4, "items");
    tether::Mutex m;
    long shared = 0, produced = 0, consumed_sum = 0, locked_entries = 0;
    fibers.push_back(gl.go([&] {
      for (long i = 1; !stop.load(); ++i) {
        items.send(i);
        produced = i;
        m.lock();
        ++shared;
        m.unlock();
        ++locked_entries;
      }
      items.close();
    }));
    fibers.push_back(gl.go([&] {
      while (auto v = items.recv()) {
        consumed_sum += *v;
        m.lock();
        ++shared;
        tether::this_fiber::yield();
        m.unlock();
        ++locked_entries;
      }
    }));
    fibers.push_back(gl.go([&] {
      while (!stop.load()) {
        m.lock();
        ++shared;
        tether::this_fiber::yield();
        m.unlock();
        ++locked_entries;
        tether::sleep_for(200us);
      }
    }));

    // A reader in read() on thread "io", fed by a writer on the pool.
    int fds[2];
    if (tether::sys::pipe(fds) != 0) {
      std::printf("dump_storm: pipe failed\n");
      return 1;
    }
    auto io = tether::ThreadLocker::make("io");
    long bytes_read = 0, bytes_written = 0;
    fibers.push_back(io.go([&] {
      char buf[64];
      for (;;) {
        const ssize_t n = tether::sys::read(fds[0], buf, sizeof buf);
        if (n > 0) bytes_read += n;
        if (n == 0) break;
        if (n < 0 && errno != EINTR) break;
      }
    }));
    fibers.push_back(tether::go([&] {
      while (!stop.load()) {
        const char c = 'x';
        if (tether::sys::write(fds[1], &c, 1) == 1) ++bytes_written;
        tether::sleep_for(1ms);
      }
      tether::sys::close(fds[1]);
    }));
    std::printf("dump_storm: fibers %d\n", kFibers);
    std::fflush(stdout);

    // The storm, from a plain thread.
    std::atomic<bool> storm_done{false};
    std::thread storm([&] {
      std::mt19937 rng(8);
      std::uniform_int_distribution<int> gap_us(0, 2000);
      for (int i = 0; i < signals; ++i) {
        ::kill(getpid(), SIGUSR1);
        std::this_thread::sleep_for(std::chrono::microseconds(gap_us(rng)));
      }
      storm_done = true;
    });
    while (!storm_done.load()) tether::sleep_for(10ms);  // not blocking thread "main"
    storm.join();
    // Let the last coalesced dump finish: the file stops changing.
    std::int64_t last = mtime_ns(dump_file);
    for (auto quiet = 0ms; quiet < 2000ms; quiet += 100ms) {
      tether::sleep_for(100ms);
      const std::int64_t now = mtime_ns(dump_file);
      if (now != last) {
        last = now;
        quiet = 0ms;
      }
    }

    stop = true;
    for (auto& f : fibers) f.join();
    tether::sys::close(fds[0]);
    ::unlink(dump_file.c_str());

    bool ok = true;
    auto check = [&](bool cond, const char* what) {
      if (!cond) {
        std::printf("dump_storm: FAILED: %s\n", what);
        ok = false;
      }
    };
    check(bad_replies.load() == 0, "a reply was wrong");
    check(rounds.load() > 0, "no request/reply round");
    check(consumed_sum == produced * (produced + 1) / 2, "the consumer's sum is wrong");
    check(shared == locked_entries, "the mutex counter is wrong");
    check(bytes_read == bytes_written && bytes_written > 0, "bytes were lost on the pipe");
    std::printf("dump_storm: rounds %ld, produced %ld, bytes %ld, critical sections %ld\n",
                rounds.load(), produced, bytes_written, locked_entries);
    if (!ok) return 1;
    std::printf("dump_storm: result ok\n");
    return 0;
  });
}
