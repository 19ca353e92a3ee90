// tether_trace_bench: the offline analyzer at scale (issue 4: a 10-million-
// event trace analyzed in <= 10 s and <= 2 GiB on this machine).
//
// One synthetic trace (tether_trace_gen's generator model, through the test
// encoder) of TETHER_TRACE_BENCH_EVENTS events (default 10,000,000) is
// written once to a temporary file; then, in the same run:
//   BM_ReadFileBytes  the baseline: read(2) the whole file, nothing decoded
//   BM_ReadTrace      TraceReader: decode and validate every event
//   BM_Analyze        TraceReader + Analyzer (what `tether analyze` does)
// Compare BM_ReadTrace and BM_Analyze to BM_ReadFileBytes as ratios; the
// absolute time of BM_Analyze is the 10 s goal (check its memory
// with /usr/bin/time -v on `tether analyze`, see docs/analyze-format.md).
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "tether/trace/trace_reader.h"
#include "trace_encoder.h"
#ifdef TETHER_BENCH_ANALYSIS
#include "tether/trace/analysis.h"
#endif

namespace {

using tether::trace::Event;
using tether::trace::EventType;
using tether::trace::TraceReader;

std::uint64_t bench_events() {
  const char* v = std::getenv("TETHER_TRACE_BENCH_EVENTS");
  return v && *v ? std::strtoull(v, nullptr, 10) : 10'000'000ull;
}

// A well-behaved program of many fibers over 8 pool threads and 4 lockers:
// lock pairs in order, channel hand-offs, sleeps, system calls (the same
// mix as tether_trace_gen, written inline to keep the bench self-contained).
std::string make_trace(std::uint64_t n) {
  const std::string path = "/tmp/tether_trace_bench." + std::to_string(::getpid()) + ".tt";
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  tether::trace::testing::TraceEncoder enc(out);
  std::uint64_t seed = 88172645463325252ull;
  auto rnd = [&](std::uint64_t m) {
    seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
    return seed % m;
  };
  std::int64_t t = 1000;
  std::uint64_t emitted = 0;
  Event e;
  auto emit = [&](EventType type, std::uint64_t thread, std::uint64_t fiber, std::uint64_t object,
                  std::uint8_t reason = 0) {
    e.type = type, e.time_ns = t, e.thread = thread, e.fiber = fiber, e.object = object;
    e.reason = reason, e.site = reason ? 1 + static_cast<std::uint32_t>(rnd(50)) : 0;
    e.stack = reason ? 1 + static_cast<std::uint32_t>(rnd(20)) : 0;
    enc.add(thread, e);
    t += 40 + static_cast<std::int64_t>(rnd(200));
    ++emitted;
  };
  Event meta;
  for (std::uint32_t i = 1; i <= 50; ++i) {
    meta = Event{};
    meta.type = EventType::site, meta.id = i, meta.line = static_cast<int>(i);
    meta.file = "/src/app/server.cpp", meta.text = "app::handle(Request const&)";
    enc.add(0, meta);
  }
  for (std::uint32_t i = 1; i <= 20; ++i) {
    meta = Event{};
    meta.type = EventType::stack, meta.id = i;
    for (int k = 0; k < 8; ++k)
      meta.frames.push_back({"app::layer(int)", "/src/app/layer.cpp", 10 + k, 0x400000u + i});
    enc.add(0, meta);
  }
  constexpr std::uint64_t kFibers = 5000, kThreads = 12, kMutexes = 300, kChans = 500;
  for (std::uint64_t f = 2; f < 2 + kFibers; ++f) {
    e = Event{};
    e.type = EventType::fiber_create, e.time_ns = t, e.fiber = f, e.other = 1;
    e.thread = f % 3 == 0 ? 1 + kThreads - 4 + f % 4 : 0;
    enc.add(1, e);
  }
  e = Event{};
  auto thread_of = [&](std::uint64_t f) {
    return f % 3 == 0 ? 1 + kThreads - 4 + f % 4 : 1 + rnd(kThreads - 4);
  };
  while (emitted < n) {
    const std::uint64_t f = 2 + rnd(kFibers), th = thread_of(f);
    emit(EventType::run, th, f, 0);
    switch (rnd(4)) {
      case 0: {
        const std::uint64_t m = 1000 + rnd(kMutexes);
        emit(EventType::lock_acquire, th, f, m);
        emit(EventType::lock_release, th, f, m);
        break;
      }
      case 1: {
        const std::uint64_t g = 2 + rnd(kFibers), gth = thread_of(g), c = 2000 + rnd(kChans);
        if (g == f) break;
        emit(EventType::run, gth, g, 0);
        emit(EventType::park, gth, g, c, 3);  // chan receive
        emit(EventType::run, th, f, 0);
        emit(EventType::chan_send, th, f, c);
        e.other = f;
        emit(EventType::unpark, th, g, 0);
        e.other = 0;
        emit(EventType::run, gth, g, 0);
        emit(EventType::chan_recv, gth, g, c);
        break;
      }
      case 2:
        emit(EventType::park, th, f, 0, 13);  // sleep
        emit(EventType::unpark, th, f, 0);
        emit(EventType::run, th, f, 0);
        break;
      default:
        e.a = 3, e.b = -1, e.text = "read";
        emit(EventType::syscall_enter, th, f, 0);
        e.a = 64, e.b = 0, e.text.clear();
        emit(EventType::syscall_exit, th, f, 0);
        e.a = 0;
        break;
    }
  }
  for (std::uint64_t f = 2; f < 2 + kFibers; ++f) emit(EventType::fiber_exit, thread_of(f), f, 0);
  emit(EventType::end, 1, 0, 0);
  enc.flush_all();
  return path;
}

struct TraceFile {
  std::string path;
  std::uint64_t bytes = 0;
  TraceFile() : path(make_trace(bench_events())) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    bytes = static_cast<std::uint64_t>(in.tellg());
  }
  ~TraceFile() { std::remove(path.c_str()); }
};

const TraceFile& trace_file() {
  static TraceFile file;
  return file;
}

void BM_ReadFileBytes(benchmark::State& state) {
  const TraceFile& f = trace_file();
  std::vector<char> buf(1 << 20);
  for (auto _ : state) {
    const int fd = ::open(f.path.c_str(), O_RDONLY);
    std::uint64_t total = 0;
    for (ssize_t r; (r = ::read(fd, buf.data(), buf.size())) > 0;) total += r;
    ::close(fd);
    benchmark::DoNotOptimize(total);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * f.bytes));
}

void BM_ReadTrace(benchmark::State& state) {
  const TraceFile& f = trace_file();
  std::uint64_t events = 0;
  for (auto _ : state) {
    TraceReader reader(f.path);
    Event e;
    events = 0;
    while (reader.next(e)) ++events;
    if (reader.error()) state.SkipWithError(reader.error()->message().c_str());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * f.bytes));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * events));
  state.counters["events"] = static_cast<double>(events);
}

#ifdef TETHER_BENCH_ANALYSIS
void BM_Analyze(benchmark::State& state) {
  const TraceFile& f = trace_file();
  std::uint64_t events = 0;
  for (auto _ : state) {
    TraceReader reader(f.path);
    tether::trace::Analyzer analyzer;
    Event e;
    events = 0;
    while (reader.next(e)) {
      analyzer.add(e);
      ++events;
    }
    auto result = analyzer.finish();
    benchmark::DoNotOptimize(result.findings.size());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * events));
}
BENCHMARK(BM_Analyze)->Unit(benchmark::kMillisecond)->Iterations(1);
#endif

BENCHMARK(BM_ReadFileBytes)->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK(BM_ReadTrace)->Unit(benchmark::kMillisecond)->MinTime(1.0);

}  // namespace

BENCHMARK_MAIN();
