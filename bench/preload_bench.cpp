// tether_preload_bench: what libtether_preload.so adds to a blocking libc call.
//
//   build/bench/tether_preload_bench --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true   (one command line)
//
// Goal (issue 9): an interposed non-blocking write() to /dev/null from a
// fiber costs <= 50 ns more than the same call made directly to libc, both
// measured in this run:
//   BM_WriteFromFiber/interposed  - BM_WriteFromFiber/libc      <= 50 ns
// path 0 is libc, 1 the interposed write(), 2 syscall(SYS_write) (through the
// library's syscall(), which only passes it on). The other rows put it in
// context: the same on a plain thread (the library only passes the call
// through there) and an
// uncontended pthread mutex (which the library only tries, never records).
#include <benchmark/benchmark.h>

#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>

#include "preload_bridge.h"
#include "tether/runtime.h"

namespace {

using WriteFn = ssize_t (*)(int, const void*, size_t);
using LockFn = int (*)(pthread_mutex_t*);

// libc's own functions, bypassing the library (which the program links).
template <typename Fn>
Fn from_libc(const char* name) {
  void* libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
  Fn f = libc ? reinterpret_cast<Fn>(dlsym(libc, name)) : nullptr;
  if (!f) std::abort();
  return f;
}

int dev_null() {
  static const int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
  return fd;
}

// The benchmark loop runs in fiber 1 of a tether::run, on the main thread
// (the runtime's start and stop are outside the timed loop).
template <typename Body>
void on_fiber(benchmark::State& state, Body body) {
  tether::run([&] { body(state); });
}

enum Path { kLibc, kInterposed, kRawSyscall };

void write_loop(benchmark::State& state, Path path) {
  static const WriteFn libc_write = from_libc<WriteFn>("write");
  const int fd = dev_null();
  char byte = 0;
  for (auto _ : state) {
    ssize_t r;
    switch (path) {
      case kLibc:
        r = libc_write(fd, &byte, 1);
        break;
      case kInterposed:
        r = write(fd, &byte, 1);
        break;
      default:
        r = syscall(SYS_write, fd, &byte, 1);
        break;
    }
    benchmark::DoNotOptimize(r);
  }
}

void BM_WriteFromFiber(benchmark::State& state) {
  on_fiber(state, [](benchmark::State& s) { write_loop(s, static_cast<Path>(s.range(0))); });
}
BENCHMARK(BM_WriteFromFiber)->ArgName("path")->Arg(kLibc)->Arg(kInterposed)->Arg(kRawSyscall);

void BM_WriteFromThread(benchmark::State& state) {
  tether::detail::register_preload_hooks();  // as in a program that ran tether::run
  write_loop(state, static_cast<Path>(state.range(0)));
}
BENCHMARK(BM_WriteFromThread)->ArgName("path")->Arg(kLibc)->Arg(kInterposed);

void mutex_loop(benchmark::State& state, bool interposed) {
  static const LockFn libc_lock = from_libc<LockFn>("pthread_mutex_lock");
  pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
  for (auto _ : state) {
    benchmark::DoNotOptimize(interposed ? pthread_mutex_lock(&m) : libc_lock(&m));
    pthread_mutex_unlock(&m);
  }
}

void BM_MutexFromFiber(benchmark::State& state) {
  on_fiber(state, [](benchmark::State& s) { mutex_loop(s, s.range(0) == kInterposed); });
}
BENCHMARK(BM_MutexFromFiber)->ArgName("path")->Arg(kLibc)->Arg(kInterposed);

}  // namespace

BENCHMARK_MAIN();
