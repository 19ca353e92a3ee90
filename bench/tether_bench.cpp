// tether_bench: what a request to a thread-affine fiber costs.
//
//   build/bench/tether_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//
// Goals (issue "Runtime core"), each a ratio measured in one run:
//   B1 BM_SameThreadRequestReply <= 80 ns and >= 2.5x faster than BM_BoostFiberRequestReply
//   B2 BM_PoolToLockedServer     >= 20x faster than BM_StdThreadServer
//   B3 BM_SpawnJoin              <= 1 us
//   B4 BM_PoolPingPong           (reported)
// BM_ContextSwitchPair is the floor: two raw Boost.Context switches.
#include <benchmark/benchmark.h>

#include <boost/context/detail/fcontext.hpp>
#include <boost/fiber/all.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstdio>
#include <ctime>
#include <deque>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "deadlock_detector.h"
#include "tether/chan.h"
#include "tether/fiber.h"
#include "tether/mutex.h"
#include "tether/runtime.h"
#include "tether/thread_locker.h"
#include "tether/timer.h"
#include "trace_events.h"
#include "trace_writer.h"
#include "wait_graph.h"

namespace {

namespace ctx = boost::context::detail;

// ---- the floor: raw context switches ----

void bounce(ctx::transfer_t t) {
  for (;;) t = ctx::jump_fcontext(t.fctx, nullptr);
}

void BM_ContextSwitchPair(benchmark::State& state) {
  static char stack[64 * 1024];
  ctx::fcontext_t other = ctx::make_fcontext(stack + sizeof(stack), sizeof(stack), bounce);
  for (auto _ : state) {
    ctx::transfer_t t = ctx::jump_fcontext(other, nullptr);  // there and back
    other = t.fctx;
  }
}
BENCHMARK(BM_ContextSwitchPair);

// ---- B1: client and server fibers locked to the same thread ----

// CPU time of the calling OS thread, in ns.
double thread_cpu_ns() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) * 1e9 + double(ts.tv_nsec);
}

// A server fiber locked to a thread answers requests on unbuffered
// channels; the client runs on the same locked thread (B1) or on the pool (B2).
// B1's counter client_cpu_ns: CPU time of the locked thread per round trip,
// the whole cost (both fibers run there); unlike real time it holds still
// while other processes load the machine. Compare it with the CPU column of
// BM_BoostFiberRequestReply (one thread doing everything too).
void request_reply(benchmark::State& state, const char* thread, bool client_on_locker) {
  tether::run([&] {
    auto t = tether::ThreadLocker::make(thread);
    tether::Chan<int> req(0, "requests"), rep(0, "replies");
    auto server = t.go([&] {
      while (auto r = req.recv()) rep.send(*r + 1);
    });
    auto client = [&] {
      int i = 0;
      const double cpu0 = thread_cpu_ns();
      for (auto _ : state) {
        req.send(i);
        benchmark::DoNotOptimize(rep.recv());
        ++i;
      }
      // (Not for a pool client: it may move between threads.)
      if (client_on_locker) {
        state.counters["client_cpu_ns"] =
            benchmark::Counter(thread_cpu_ns() - cpu0, benchmark::Counter::kAvgIterations);
      }
      req.close();
    };
    (client_on_locker ? t.go(client) : tether::go(client)).join();
    server.join();
  });
}

void BM_SameThreadRequestReply(benchmark::State& state) {
  request_reply(state, "bench-b1", true);
}
BENCHMARK(BM_SameThreadRequestReply)->UseRealTime();

void BM_BoostFiberRequestReply(benchmark::State& state) {
  boost::fibers::unbuffered_channel<int> req, rep;
  boost::fibers::fiber server([&] {
    int r;
    while (req.pop(r) == boost::fibers::channel_op_status::success) rep.push(r + 1);
  });
  int i = 0;
  for (auto _ : state) {
    req.push(i);
    int v = 0;
    rep.pop(v);
    benchmark::DoNotOptimize(v);
    ++i;
  }
  req.close();
  server.join();
}
BENCHMARK(BM_BoostFiberRequestReply)->UseRealTime();

// ---- B2: a pool fiber calling a server fiber on a locked thread ----

void BM_PoolToLockedServer(benchmark::State& state) {
  request_reply(state, "bench-b2", false);
}
BENCHMARK(BM_PoolToLockedServer)->UseRealTime();

// What a C++ user writes today: a server thread, a locked queue, a condvar, a future.
void BM_StdThreadServer(benchmark::State& state) {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::pair<int, std::promise<int>>> queue;
  bool stop = false;
  std::thread server([&] {
    std::unique_lock lk(mu);
    for (;;) {
      cv.wait(lk, [&] { return stop || !queue.empty(); });
      if (queue.empty()) return;
      auto [r, reply] = std::move(queue.front());
      queue.pop_front();
      lk.unlock();
      reply.set_value(r + 1);
      lk.lock();
    }
  });
  int i = 0;
  for (auto _ : state) {
    std::promise<int> p;
    auto f = p.get_future();
    {
      std::lock_guard lk(mu);
      queue.emplace_back(i++, std::move(p));
    }
    cv.notify_one();
    benchmark::DoNotOptimize(f.get());
  }
  {
    std::lock_guard lk(mu);
    stop = true;
  }
  cv.notify_one();
  server.join();
}
BENCHMARK(BM_StdThreadServer)->UseRealTime();

// ---- B3: spawn + join ----

void BM_SpawnJoin(benchmark::State& state) {
  tether::run([&] {
    tether::go([&] {
      for (auto _ : state) tether::go([] {}).join();
    }).join();
  });
}
BENCHMARK(BM_SpawnJoin)->UseRealTime();

// ---- B4: ping-pong between two pool fibers ----

void BM_PoolPingPong(benchmark::State& state) {
  tether::run([&] {
    tether::Chan<int> ping(0, "ping"), pong(0, "pong");
    auto peer = tether::go([&] {
      while (auto v = ping.recv()) pong.send(*v);
    });
    tether::go([&] {
      int i = 0;
      for (auto _ : state) {
        ping.send(i++);
        benchmark::DoNotOptimize(pong.recv());
      }
      ping.close();
    }).join();
    peer.join();
  });
}
BENCHMARK(BM_PoolPingPong)->UseRealTime();

// ---- the detector: one look (snapshot + analysis) at 10k parked fibers ----

void BM_DetectorLook10k(benchmark::State& state) {
  setenv("TETHER_DETECT_MS", "0", 1);  // we look ourselves
  tether::run([&] {
    tether::Chan<int> gate(0, "gate");
    std::vector<tether::FiberRef> fs;
    for (int i = 0; i < 10000; ++i) fs.push_back(tether::go([gate]() mutable { gate.recv(); }));
    tether::sleep_for(std::chrono::milliseconds(50));
    for (auto _ : state) {
      auto g = tether::detail::take_snapshot();
      benchmark::DoNotOptimize(tether::detail::find_deadlocks(g));
    }
    gate.close();
    for (auto& f : fs) f.join();
  });
  unsetenv("TETHER_DETECT_MS");
}
BENCHMARK(BM_DetectorLook10k)->Unit(benchmark::kMillisecond)->UseRealTime();

// ---- the event trace (issue 4): the cost of recording, next to the rows above ----
// Goals: <= 25 ns per recorded event; B1 traced <= 1.5x B1 (same binary, same run).
// The traced rows write a real trace to a temporary file (fixed iteration
// counts keep it to tens of MB); compare BM_SameThreadRequestReplyTraced with
// BM_SameThreadRequestReply and BM_PoolToLockedServerTraced with BM_PoolToLockedServer.
// B1 traced (format 3.0): 4 records per round trip (two hand-offs, two parks
// naming the fiber switched to) and a clock read for about one record in ten
// (docs/trace-format.md, "One instant per switch": shared readings). Filter with
// 'BM_SameThreadRequestReply(Traced)?/|BM_TraceEvent/' (names end in /real_time).

class TraceToTempFile {
 public:
  TraceToTempFile() : path_("/tmp/tether_bench_trace_" + std::to_string(getpid()) + ".tt") {
    setenv("TETHER_TRACE", path_.c_str(), 1);
  }
  ~TraceToTempFile() {
    unsetenv("TETHER_TRACE");
    std::remove(path_.c_str());
  }

 private:
  std::string path_;
};

// One recorded event (a channel-send record) on a running fiber: the hook's
// flag test, the clock read and the append to the thread's buffer, plus its
// share of the writer thread's work. BM_TraceEventOff: the same hook with
// tracing off (the cost every program pays).
void trace_event_loop(benchmark::State& state) {
  tether::run([&] {
    tether::Chan<int> ch(1, "bench-trace");
    const std::uint64_t id = ch.id(), fiber = tether::this_fiber::id();
    for (auto _ : state) {
      tether::detail::trace::on_chan_send(id, fiber);
      benchmark::ClobberMemory();
    }
  });
}
void BM_TraceEvent(benchmark::State& state) {
  TraceToTempFile trace;
  trace_event_loop(state);
}
BENCHMARK(BM_TraceEvent)->Iterations(4'000'000)->UseRealTime();
void BM_TraceEventOff(benchmark::State& state) { trace_event_loop(state); }
BENCHMARK(BM_TraceEventOff)->UseRealTime();

void BM_SameThreadRequestReplyTraced(benchmark::State& state) {
  TraceToTempFile trace;
  request_reply(state, "bench-b1", true);
}
BENCHMARK(BM_SameThreadRequestReplyTraced)->Iterations(1'000'000)->UseRealTime();

// B1 traced against B1 untraced in pairs of 2 ms stretches of one run (the
// same fibers, channels and thread), the recording switched on and off
// between them: each pair gives a ratio, and the counters are medians. This
// is the figure issue 4's 1.5x goal is read from: on a virtual machine
// whose speed drifts by tens of percent from one second to the next (as
// here), two rows measured a second apart (the two above) can disagree by
// that much, while two stretches 2 ms apart see the same machine.
void BM_SameThreadRequestReplyTraceRatio(benchmark::State& state) {
  namespace trace = tether::detail::trace;
  TraceToTempFile file;
  constexpr int kStretch = 20'000;  // round trips
  std::vector<double> off, on, ratio;
  tether::run([&] {
    auto t = tether::ThreadLocker::make("bench-b1");
    tether::Chan<int> req(0, "requests"), rep(0, "replies");
    auto server = t.go([&] {
      while (auto r = req.recv()) rep.send(*r + 1);
    });
    t.go([&] {
       int i = 0;
       auto stretch = [&](bool traced) {
         trace::testing_suspend_recording(!traced);
         const auto t0 = std::chrono::steady_clock::now();
         for (int k = 0; k < kStretch; ++k) {
           req.send(i);
           benchmark::DoNotOptimize(rep.recv());
           ++i;
         }
         const std::chrono::duration<double, std::nano> d = std::chrono::steady_clock::now() - t0;
         return d.count() / kStretch;
       };
       stretch(true);  // warm up both
       stretch(false);
       bool traced_first = false;
       for (auto _ : state) {
         // Alternating which comes first cancels a steady drift within pairs.
         const double a = stretch(traced_first), b = stretch(!traced_first);
         const double u = traced_first ? b : a, tr = traced_first ? a : b;
         off.push_back(u);
         on.push_back(tr);
         ratio.push_back(tr / u);
         traced_first = !traced_first;
       }
       trace::testing_suspend_recording(false);
       req.close();
     }).join();
    server.join();
  });
  auto median = [](std::vector<double> v) {
    if (v.empty()) return 0.0;
    std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
    return v[v.size() / 2];
  };
  state.counters["untraced_ns"] = median(off);
  state.counters["traced_ns"] = median(on);
  state.counters["ratio"] = median(ratio);
}
BENCHMARK(BM_SameThreadRequestReplyTraceRatio)->Iterations(100)->UseRealTime()->Unit(
    benchmark::kMillisecond);

void BM_PoolToLockedServerTraced(benchmark::State& state) {
  TraceToTempFile trace;
  request_reply(state, "bench-b2", false);
}
BENCHMARK(BM_PoolToLockedServerTraced)->Iterations(200'000)->UseRealTime();

// ---- the detector's overhead (issue 3): B1 and B2 with detection and
// lock-order tracking on vs off, same binary, same run ----
// Goal: each *On row <= 1.10x its *Off row. On: the watchdog looks every
// 100 ms (TETHER_DETECT_MS=100) and lock-order tracking is on
// (TETHER_LOCK_ORDER=1); Off: TETHER_DETECT_MS=0, TETHER_LOCK_ORDER=0. B1/B2
// take no locks, so the *Locked rows add a server that takes two mutexes per
// request (the tracker's per-acquisition work: held set, known edge).

// Sets the detector's switches for one benchmark, restoring the caller's.
class DetectionEnv {
 public:
  explicit DetectionEnv(bool on) {
    set("TETHER_DETECT_MS", on ? "100" : "0", 0);
    set("TETHER_LOCK_ORDER", on ? "1" : "0", 1);
  }
  ~DetectionEnv() {
    for (int i = 0; i < 2; ++i) {
      if (had_[i]) {
        setenv(names_[i], old_[i].c_str(), 1);
      } else {
        unsetenv(names_[i]);
      }
    }
  }

 private:
  void set(const char* name, const char* value, int i) {
    names_[i] = name;
    const char* old = std::getenv(name);
    had_[i] = old != nullptr;
    if (old) old_[i] = old;
    setenv(name, value, 1);
  }
  const char* names_[2] = {};
  std::string old_[2];
  bool had_[2] = {};
};

void BM_SameThreadRequestReplyDetectOff(benchmark::State& state) {
  DetectionEnv env(false);
  request_reply(state, "bench-b1", true);
}
BENCHMARK(BM_SameThreadRequestReplyDetectOff)->UseRealTime();
void BM_SameThreadRequestReplyDetectOn(benchmark::State& state) {
  DetectionEnv env(true);
  request_reply(state, "bench-b1", true);
}
BENCHMARK(BM_SameThreadRequestReplyDetectOn)->UseRealTime();

void BM_PoolToLockedServerDetectOff(benchmark::State& state) {
  DetectionEnv env(false);
  request_reply(state, "bench-b2", false);
}
BENCHMARK(BM_PoolToLockedServerDetectOff)->UseRealTime();
void BM_PoolToLockedServerDetectOn(benchmark::State& state) {
  DetectionEnv env(true);
  request_reply(state, "bench-b2", false);
}
BENCHMARK(BM_PoolToLockedServerDetectOn)->UseRealTime();

// B1 whose server answers each request holding "outer" and then "inner".
// client_cpu_ns as in B1: the locked thread's CPU time per round trip (both
// fibers and every lock-order hook run there), steadier than real time on a
// loaded machine.
void locked_request_reply(benchmark::State& state) {
  tether::run([&] {
    auto t = tether::ThreadLocker::make("bench-b1-locked");
    tether::Chan<int> req(0, "requests"), rep(0, "replies");
    tether::Mutex outer("outer"), inner("inner");
    auto server = t.go([&] {
      while (auto r = req.recv()) {
        outer.lock();
        inner.lock();
        const int v = *r + 1;
        inner.unlock();
        outer.unlock();
        rep.send(v);
      }
    });
    t.go([&] {
      int i = 0;
      const double cpu0 = thread_cpu_ns();
      for (auto _ : state) {
        req.send(i++);
        benchmark::DoNotOptimize(rep.recv());
      }
      state.counters["client_cpu_ns"] =
          benchmark::Counter(thread_cpu_ns() - cpu0, benchmark::Counter::kAvgIterations);
      req.close();
    }).join();
    server.join();
  });
}
void BM_SameThreadLockedDetectOff(benchmark::State& state) {
  DetectionEnv env(false);
  locked_request_reply(state);
}
BENCHMARK(BM_SameThreadLockedDetectOff)->UseRealTime();
void BM_SameThreadLockedDetectOn(benchmark::State& state) {
  DetectionEnv env(true);
  locked_request_reply(state);
}
BENCHMARK(BM_SameThreadLockedDetectOn)->UseRealTime();
// Lock-order tracking alone (the watchdog off): the tracker's own cost.
void BM_SameThreadLockedLockOrderOn(benchmark::State& state) {
  DetectionEnv env(false);
  setenv("TETHER_LOCK_ORDER", "1", 1);  // env restores the caller's value
  locked_request_reply(state);
}
BENCHMARK(BM_SameThreadLockedLockOrderOn)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
