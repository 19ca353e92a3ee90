// tether_peers_bench: the C and C++ systems a user would pick instead of
// tether, each running the same request/reply workload as tether's B1/B2 and
// Go's pingpong (issue 7): one client sends a request, waits for the reply
// (request + 1), and sends the next one. One iteration = one round trip.
//
// Built only with -DTETHER_BUILD_PEERS=ON; bench/compare runs it together with
// tether_bench and the Go peer and prints one table. Every row checks each
// reply and reports an error (which fails the peers smoke test) if one is
// wrong, so a broken peer cannot pass for a fast one.
#include <benchmark/benchmark.h>

#include <boost/context/detail/fcontext.hpp>
#include <boost/fiber/all.hpp>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <future>
#include <mutex>
#include <thread>
#include <utility>

#include "pthread_server.h"

namespace {

namespace ctx = boost::context::detail;

// ---- the floor: the round trip as two raw Boost.Context switches ----
// The request travels in the jump's data pointer and the reply comes back in
// it: no scheduler, no queue, no synchronization; nothing can be cheaper.

void context_server(ctx::transfer_t t) {
  for (;;) {
    auto request = reinterpret_cast<std::intptr_t>(t.data);
    t = ctx::jump_fcontext(t.fctx, reinterpret_cast<void*>(request + 1));
  }
}

void BM_BoostContextRequestReply(benchmark::State& state) {
  static char stack[64 * 1024];
  ctx::fcontext_t server = ctx::make_fcontext(stack + sizeof(stack), sizeof(stack), context_server);
  std::intptr_t i = 0;
  for (auto _ : state) {
    ctx::transfer_t t = ctx::jump_fcontext(server, reinterpret_cast<void*>(i));
    server = t.fctx;
    auto reply = reinterpret_cast<std::intptr_t>(t.data);
    benchmark::DoNotOptimize(reply);
    if (reply != i + 1) return state.SkipWithError("wrong reply");
    ++i;
  }
}
BENCHMARK(BM_BoostContextRequestReply)->UseRealTime();

// ---- C: a pthreads server thread, mutex + two condition variables ----

void BM_PthreadServer(benchmark::State& state) {
  peer_pthread_server* s = peer_pthread_server_start();
  if (s == nullptr) return state.SkipWithError("pthread_create failed");
  int i = 0;
  bool ok = true;
  for (auto _ : state) {
    int reply = peer_pthread_server_call(s, i);
    benchmark::DoNotOptimize(reply);
    if (reply != i + 1) {
      ok = false;
      break;
    }
    ++i;
  }
  peer_pthread_server_stop(s);
  if (!ok) state.SkipWithError("wrong reply");
}
BENCHMARK(BM_PthreadServer)->UseRealTime();

// ---- C++ today: a std::thread server, a locked queue, a condvar, a future ----

void BM_StdThreadFutureServer(benchmark::State& state) {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::pair<int, std::promise<int>>> queue;
  bool stop = false;
  std::thread server([&] {
    std::unique_lock lk(mu);
    for (;;) {
      cv.wait(lk, [&] { return stop || !queue.empty(); });
      if (queue.empty()) return;  // stopped and drained
      auto [request, reply] = std::move(queue.front());
      queue.pop_front();
      lk.unlock();
      reply.set_value(request + 1);
      lk.lock();
    }
  });
  int i = 0;
  bool ok = true;
  for (auto _ : state) {
    std::promise<int> p;
    std::future<int> f = p.get_future();
    {
      std::lock_guard lk(mu);
      queue.emplace_back(i, std::move(p));
    }
    cv.notify_one();
    int reply = f.get();
    benchmark::DoNotOptimize(reply);
    if (reply != i + 1) {
      ok = false;
      break;
    }
    ++i;
  }
  {
    std::lock_guard lk(mu);
    stop = true;
  }
  cv.notify_one();
  server.join();
  if (!ok) state.SkipWithError("wrong reply");
}
BENCHMARK(BM_StdThreadFutureServer)->UseRealTime();

// ---- Boost.Fiber unbuffered channels ----

// The server loop both Boost.Fiber rows run: reply request + 1 until closed.
void boost_fiber_serve(boost::fibers::unbuffered_channel<int>& requests,
                       boost::fibers::unbuffered_channel<int>& replies) {
  int r;
  while (requests.pop(r) == boost::fibers::channel_op_status::success) replies.push(r + 1);
}

// The client loop: one request in flight; false if a reply was wrong.
bool boost_fiber_client(benchmark::State& state, boost::fibers::unbuffered_channel<int>& requests,
                        boost::fibers::unbuffered_channel<int>& replies) {
  int i = 0;
  for (auto _ : state) {
    requests.push(i);
    int reply = 0;
    replies.pop(reply);
    benchmark::DoNotOptimize(reply);
    if (reply != i + 1) return false;
    ++i;
  }
  return true;
}

// Client and server fibers on one thread: tether B1's shape.
void BM_BoostFiberOneThread(benchmark::State& state) {
  boost::fibers::unbuffered_channel<int> requests, replies;
  boost::fibers::fiber server([&] { boost_fiber_serve(requests, replies); });
  bool ok = boost_fiber_client(state, requests, replies);
  requests.close();
  server.join();
  if (!ok) state.SkipWithError("wrong reply");
}
BENCHMARK(BM_BoostFiberOneThread)->UseRealTime();

// The server fiber runs on a thread of its own (its scheduler idles on a
// condition variable when no fiber is ready): tether B2's shape.
void BM_BoostFiberAcrossThreads(benchmark::State& state) {
  boost::fibers::unbuffered_channel<int> requests, replies;
  std::thread server([&] { boost_fiber_serve(requests, replies); });
  bool ok = boost_fiber_client(state, requests, replies);
  requests.close();
  server.join();
  if (!ok) state.SkipWithError("wrong reply");
}
BENCHMARK(BM_BoostFiberAcrossThreads)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
